import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server, Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { rawExchange } from '@org/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { createToolkit } from '../toolkit/toolkit.js';
import { coalesceWrites } from './coalesce-writes.js';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A connected pair over loopback: the server's end (coalesced) and the client's. */
async function connectedPair(
  allowHalfOpen = false,
): Promise<{ server: Socket; client: Socket; close: () => void }> {
  const listener: Server = createServer({ allowHalfOpen });
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const { port } = listener.address() as { port: number };
  const accepted = once(listener, 'connection') as Promise<[Socket]>;
  const client = new Socket().connect(port, '127.0.0.1');
  const [[server]] = await Promise.all([accepted, once(client, 'connect')]);
  coalesceWrites(server);
  return {
    server,
    client,
    close: () => {
      client.destroy();
      server.destroy();
      listener.close();
    },
  };
}

/** Everything the client receives until the server's end closes it. */
async function readAll(client: Socket): Promise<string> {
  client.setEncoding('utf8');
  let text = '';
  client.on('data', (chunk: string) => {
    text += chunk;
  });
  await once(client, 'close');
  return text;
}

describe('coalesceWrites', () => {
  let close: (() => void) | undefined;
  afterEach(() => {
    close?.();
    close = undefined;
  });

  it('holds a connection’s write until the turn ends, keeps the order, and tells the stream at once', async () => {
    const pair = await connectedPair();
    close = pair.close;
    const done: string[] = [];
    pair.server.write('one ', () => done.push('one'));
    pair.server.write('two ', () => done.push('two'));
    pair.server.write('three', () => done.push('three'));
    // Node runs a finished write's callback on the next tick. A second write releases the
    // first (the order is kept); the last one waits for the turn's end.
    await new Promise<void>((resolve) => process.nextTick(resolve));
    expect(done).toEqual(['one', 'two', 'three']);
    expect(pair.server.bytesWritten).toBe(8);
    await nextTurn();
    expect(pair.server.bytesWritten).toBe(13);
    const received = readAll(pair.client);
    pair.server.end();
    expect(await received).toBe('one two three');
  });

  it('writes a burst of 16 connections without waiting for the turn to end', async () => {
    const pairs = await Promise.all(Array.from({ length: 16 }, connectedPair));
    close = () => {
      for (const pair of pairs) pair.close();
    };
    for (const pair of pairs.slice(0, 15)) pair.server.write('x');
    expect(pairs.map((pair) => pair.server.bytesWritten)).toEqual(Array(16).fill(0));
    pairs[15]?.server.write('x');
    expect(pairs.map((pair) => pair.server.bytesWritten)).toEqual(Array(16).fill(1));
  });

  it('sends what it holds before end() closes the connection', async () => {
    const pair = await connectedPair();
    close = pair.close;
    const received = readAll(pair.client);
    pair.server.end('the last words');
    expect(await received).toBe('the last words');
  });

  it('sends what it holds before destroy() closes the connection', async () => {
    const pair = await connectedPair();
    close = pair.close;
    const received = readAll(pair.client);
    pair.server.write('HTTP/1.1 431 Request Header Fields Too Large\r\n\r\n');
    pair.server.destroy();
    expect(await received).toBe('HTTP/1.1 431 Request Header Fields Too Large\r\n\r\n');
  });

  it('keeps backpressure: a reader that stops makes write() return false, and nothing is lost', async () => {
    const pair = await connectedPair();
    close = pair.close;
    pair.client.pause();
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let written = 0;
    let full = false;
    // Without backpressure this would accept all 256 MiB into memory.
    while (!full && written < 4096) {
      full = !pair.server.write(chunk);
      written++;
      if (written % 16 === 0) await nextTurn();
    }
    expect(full).toBe(true);
    expect(pair.server.writableLength).toBeLessThanOrEqual(3 * chunk.length);
    let received = 0;
    pair.client.on('data', (data: Buffer) => {
      received += data.length;
    });
    pair.client.resume();
    pair.server.end();
    await once(pair.client, 'end');
    expect(received).toBe(written * chunk.length);
  });

  it('closes the connection when a held write fails', async () => {
    // Half-open: the server's end reads the client's FIN and stays writable, so the
    // client's close is met by a write, not by a read.
    const pair = await connectedPair(true);
    close = pair.close;
    const errors: string[] = [];
    pair.server.on('error', (error: NodeJS.ErrnoException) => errors.push(String(error.code)));
    pair.server.resume();
    pair.client.end();
    await once(pair.server, 'end');
    pair.client.destroy();
    const closed = new Promise((resolve) => pair.server.once('close', resolve));
    // The first write may still be taken by the kernel; a later one meets the reset.
    const timer = setInterval(() => pair.server.write('late'), 5);
    await closed;
    clearInterval(timer);
    expect(pair.server.destroyed).toBe(true);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^(EPIPE|ECONNRESET)$/);
  });

  it('leaves a stream whose methods are not net.Socket’s alone, and is idempotent', async () => {
    const stream = new Duplex({ read() {}, write: (_chunk, _encoding, callback) => callback() });
    const own = stream._write;
    coalesceWrites(stream as unknown as Socket);
    expect(stream._write).toBe(own);

    const pair = await connectedPair();
    close = pair.close;
    const wrapped = pair.server._write;
    expect(wrapped).not.toBe(Socket.prototype._write);
    coalesceWrites(pair.server);
    expect(pair.server._write).toBe(wrapped);
  });

  it('is an option of the toolkit, on by default, checked at start', () => {
    expect(createToolkit().coalesceWrites).toBe(true);
    expect(createToolkit({ coalesceWrites: false }).coalesceWrites).toBe(false);
    expect(() => createToolkit({ coalesceWrites: 'yes' as unknown as boolean })).toThrow(
      /coalesceWrites must be true or false; received yes/,
    );
  });
});

describe('coalesceWrites and process.exit()', () => {
  it('sends a response held in the turn the process exits', async () => {
    const hooks = fileURLToPath(
      new URL('../../../../test-support/source-hooks.mjs', import.meta.url),
    );
    const fixture = fileURLToPath(
      new URL('../../test/fixtures/exit-after-reply.ts', import.meta.url),
    );
    const child = spawn(
      process.execPath,
      ['--disable-warning=ExperimentalWarning', '--import', hooks, fixture],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    const port = Number(line.replace('listening ', ''));
    const exited = once(child, 'exit');
    const answer = await rawExchange(
      `http://127.0.0.1:${port}`,
      'GET /bye HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answer.endsWith('\r\n\r\n{"bye":true}')).toBe(true);
    expect(await exited).toEqual([0, null]);
  });
});
