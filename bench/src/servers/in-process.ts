// Preloaded (`node --import`) into a benchmark server by `pnpm --dir bench bench:inproc`:
// the server's http.Server never listens. At listen() it gets 64 in-memory connections
// instead, each sending the next `GET /users/me` once its response has finished, and
// after a warm-up the process prints the CPU it spent per request and exits. No kernel,
// no load generator, no waking of another core: what is left is the server's own
// JavaScript (and Node's HTTP parser), measured to a tenth of a microsecond where a wrk
// run on this VM moves by 10%.
import { Server } from 'node:http';
import { Duplex } from 'node:stream';

const CONNECTIONS = 64;
const seconds = Number(process.env.INPROC_SECONDS ?? '3');
const warmupMs = Number(process.env.INPROC_WARMUP_MS ?? '1500');
const token = process.env.INPROC_TOKEN;
const request = Buffer.from(
  `GET /users/me HTTP/1.1\r\nHost: 127.0.0.1\r\n${
    token === undefined ? '' : `Authorization: Bearer ${token}\r\n`
  }\r\n`,
);

/** A connection whose writes go nowhere; the server reads what the driver pushes. */
class MemorySocket extends Duplex {
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 40_000;
  readonly remoteFamily = 'IPv4';
  override _read(): void {}
  override _write(_chunk: unknown, _encoding: string, callback: () => void): void {
    callback();
  }
  override _writev(_chunks: unknown[], callback: () => void): void {
    callback();
  }
  setTimeout(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
}

function drive(server: Server): void {
  let finished = 0;
  let failed = 0;
  server.prependListener('request', (req, res) => {
    res.once('finish', () => {
      finished++;
      if (res.statusCode >= 300) failed++;
      // Next turn: the parser is still inside this request.
      setImmediate(() => req.socket.push(request));
    });
  });
  for (let i = 0; i < CONNECTIONS; i++) {
    const socket = new MemorySocket();
    server.emit('connection', socket);
    socket.push(request);
  }
  setTimeout(() => {
    const cpu = process.cpuUsage();
    const start = finished;
    const wallStart = performance.now();
    setTimeout(() => {
      const used = process.cpuUsage(cpu);
      const requests = finished - start;
      const result = {
        requests,
        failed,
        rps: (requests * 1000) / (performance.now() - wallStart),
        cpuUsPerRequest: (used.user + used.system) / requests,
      };
      process.stdout.write(`inproc ${JSON.stringify(result)}\n`);
      process.exit(0);
    }, seconds * 1000);
  }, warmupMs);
}

// Every framework ends in Server.prototype.listen (app.listen, fastify.listen, serve()).
Server.prototype.listen = function listen(this: Server, ...args: unknown[]): Server {
  const callback = args.find((arg): arg is () => void => typeof arg === 'function');
  this.address = () => ({ address: '127.0.0.1', family: 'IPv4', port: 1 });
  setImmediate(() => {
    this.emit('listening');
    callback?.();
    drive(this);
  });
  return this;
} as typeof Server.prototype.listen;
