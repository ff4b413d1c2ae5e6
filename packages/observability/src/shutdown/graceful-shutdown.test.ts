import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent, createServer, request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ConfigurationError } from '@org/core';
import { afterEach, describe, expect, it } from 'vitest';
import { gracefulShutdown } from './graceful-shutdown.js';

const hooks = fileURLToPath(new URL('../../../../test-support/source-hooks.mjs', import.meta.url));
const fixture = fileURLToPath(new URL('../../test/fixtures/shutdown-server.ts', import.meta.url));

type Line = Record<string, unknown>;

/** The fixture service in a child process, with its log lines as they arrive. */
function startService(env: Record<string, string>) {
  const child = spawn(
    process.execPath,
    ['--disable-warning=ExperimentalWarning', '--import', hooks, fixture],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: Line[] = [];
  const waiters: { predicate: (l: Line) => boolean; resolve: (l: Line) => void }[] = [];
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (text) => {
    let line: Line;
    try {
      line = JSON.parse(text) as Line;
    } catch {
      return;
    }
    lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.once('exit', (code) => resolve({ code, at: performance.now() })),
  );
  const waitFor = (predicate: (l: Line) => boolean): Promise<Line> => {
    const found = lines.find(predicate);
    if (found) return Promise.resolve(found);
    return Promise.race([
      new Promise<Line>((resolve) => waiters.push({ predicate, resolve })),
      exited.then(() => {
        throw new Error(`service exited before the expected line; stderr: ${stderr}`);
      }),
    ]);
  };
  return { child, lines, exited, waitFor };
}

interface Answer {
  status: number;
  body: string;
}

function get(port: number, path: string, agent: Agent | false = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

let running: ChildProcess | undefined;
afterEach(() => {
  if (running?.exitCode === null) running.kill('SIGKILL');
  running = undefined;
});

describe('gracefulShutdown in a child process', () => {
  it('fails readiness, refuses new connections, finishes in-flight requests, runs hooks in reverse and exits 0', async () => {
    const DELAY_MS = 1500;
    const TIMEOUT_MS = 5000;
    const service = startService({ DELAY_MS: String(DELAY_MS), TIMEOUT_MS: String(TIMEOUT_MS) });
    running = service.child;
    const { port } = (await service.waitFor((l) => l.event === 'listening')) as { port: number };

    // An idle keep-alive connection that the drain must close by itself.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    expect(await get(port, '/fast', agent)).toEqual({ status: 200, body: 'fast' });
    expect((await get(port, '/readyz')).status).toBe(200);

    // In flight on a keep-alive connection: once answered, its socket must be closed too.
    const slowAgent = new Agent({ keepAlive: true });
    const slow = get(port, '/slow', slowAgent);
    await service.waitFor((l) => l.event === 'slow-started');
    const signalledAt = performance.now();
    service.child.kill('SIGTERM');
    await service.waitFor((l) => l.msg === 'shutdown started; readiness now fails');

    // During the delay the listener still accepts, and readiness tells the LB to go.
    const ready = await get(port, '/readyz');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ status: 'fail' });
    expect((await get(port, '/healthz')).status).toBe(200);

    await service.waitFor((l) => l.msg === 'listener closed; draining in-flight requests');
    await expect(get(port, '/fast')).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    expect(await slow).toEqual({ status: 200, body: 'slow done' });
    const { code, at } = await service.exited;
    expect(code).toBe(0);
    expect(at - signalledAt).toBeLessThan(DELAY_MS + TIMEOUT_MS);
    expect(service.lines.filter((l) => l.event === 'hook').map((l) => l.hook)).toEqual([
      'redis',
      'database',
    ]);
    expect(service.lines).toContainEqual(
      expect.objectContaining({ msg: 'request completed', route: '/slow', status: 200 }),
    );
    agent.destroy();
    slowAgent.destroy();
  });

  it('closes connections that have sent nothing (a preconnect) and exits 0 without waiting', async () => {
    const service = startService({ DELAY_MS: '0', TIMEOUT_MS: '5000' });
    running = service.child;
    const { port } = (await service.waitFor((l) => l.event === 'listening')) as { port: number };
    const preconnect = connect(port, '127.0.0.1');
    await once(preconnect, 'connect');
    expect((await get(port, '/fast')).status).toBe(200); // the preconnect is accepted by now
    const closed = once(preconnect, 'close');
    const signalledAt = performance.now();
    service.child.kill('SIGTERM');
    await closed;
    const { code, at } = await service.exited;
    expect(code).toBe(0);
    expect(at - signalledAt).toBeLessThan(2000); // not the 5 s deadline
  });

  it('cuts requests still running at the deadline and exits 1', async () => {
    const service = startService({ DELAY_MS: '0', TIMEOUT_MS: '300', HANG: '1' });
    running = service.child;
    const { port } = (await service.waitFor((l) => l.event === 'listening')) as { port: number };
    const slow = get(port, '/slow');
    await service.waitFor((l) => l.event === 'slow-started');
    service.child.kill('SIGTERM');
    await expect(slow).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect((await service.exited).code).toBe(1);
    expect(service.lines).toContainEqual(
      expect.objectContaining({ msg: 'drain deadline passed; closing open connections' }),
    );
  });

  it('exits 1 at once on a second signal', async () => {
    const service = startService({ DELAY_MS: '60000', TIMEOUT_MS: '60000' });
    running = service.child;
    await service.waitFor((l) => l.event === 'listening');
    service.child.kill('SIGTERM');
    await service.waitFor((l) => l.msg === 'shutdown started; readiness now fails');
    service.child.kill('SIGINT');
    expect((await service.exited).code).toBe(1);
    expect(service.lines).toContainEqual(
      expect.objectContaining({
        msg: 'second signal during shutdown; exiting now',
        signal: 'SIGINT',
      }),
    );
  });
});

describe('gracefulShutdown with upgraded connections', () => {
  it('lets onDrain close what the server cannot (a WebSocket) and exits 0 without waiting', async () => {
    const upgraded = new Set<Socket>();
    const server = createServer().on('upgrade', (_req, socket: Socket) => {
      upgraded.add(socket);
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n',
      );
    });
    server.listen(0);
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const client = connect(port, '127.0.0.1');
    client.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n');
    expect(String((await once(client, 'data'))[0])).toMatch(/^HTTP\/1.1 101/);
    const clientClosed = once(client, 'close');
    const drained: string[] = [];
    const controller = gracefulShutdown({
      server,
      delayMs: 0,
      // Far beyond the test's timeout: only onDrain can end the drain in time.
      timeoutMs: 600_000,
      signals: [],
      exit: (code) => drained.push(`exit ${code}`),
      onDrain: () => {
        drained.push('onDrain');
        for (const socket of upgraded) socket.end();
      },
    });
    expect(await controller.shutdown('test')).toBe(0);
    await clientClosed;
    expect(drained).toEqual(['onDrain', 'exit 0']);
  });
});

describe('gracefulShutdown options', () => {
  it('rejects bad options at construction, naming the option', () => {
    expect(() => gracefulShutdown({} as never)).toThrow(ConfigurationError);
    const server = {
      close() {},
      closeIdleConnections() {},
      closeAllConnections() {},
      prependListener() {},
      on() {},
    };
    expect(() => gracefulShutdown({ server, delayMs: -1 })).toThrow(/delayMs/);
    expect(() => gracefulShutdown({ server, timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => gracefulShutdown({ server, hooks: ['x' as never] })).toThrow(/hooks/);
    expect(() => gracefulShutdown({ server, readiness: {} as never })).toThrow(/readiness/);
    expect(() => gracefulShutdown({ server, onDrain: 'x' as never })).toThrow(/onDrain/);
  });
});
