import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { createToolkit, type Plugin, type ResponseInfo } from '@org/core';
import {
  type AdapterName,
  adapters,
  type ClientResponse,
  createSelfSignedCertificate,
  deferred,
  FileBody,
  type RouteSpec,
  type RunningApp,
  readBody,
  StreamBody,
  sendRequest,
  type TlsCredentials,
} from '@org/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { collect, httpMessage, rawSocket } from './raw-socket.js';
import { startShutdownApp } from './shutdown-child.js';
import { acceptWebSocketEcho, encodeFrame, takeFrame, websocketAccept } from './websocket-echo.js';

/** Not a multiple of any chunk or TLS record size, so a lost or doubled tail shows. */
const SIZE = 2 * 1024 * 1024 + 4321;

let tls: TlsCredentials;
let dir: string;
let payload: Buffer;
let file: string;

beforeAll(async () => {
  tls = await createSelfSignedCertificate();
  dir = await mkdtemp(join(tmpdir(), 'org-transport-'));
  payload = randomBytes(SIZE);
  file = join(dir, 'payload.bin');
  await writeFile(file, payload);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Hands out `bytes` in 64 KiB chunks only as the consumer asks, counting what it gave. */
function pullSource(bytes: Buffer): { source: Readable; pulled: () => number } {
  let offset = 0;
  const source = new Readable({
    read() {
      const chunk = bytes.subarray(offset, offset + 64 * 1024);
      offset += chunk.length;
      this.push(chunk.length === 0 ? null : chunk);
    },
  });
  return { source, pulled: () => offset };
}

/** A source that never ends on its own (bounded at 1 GiB): what only a reset stops. */
function endlessSource(): Readable {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let left = 16 * 1024;
  return new Readable({
    read() {
      this.push(--left < 0 ? null : chunk);
    },
  });
}

/** A `probe` plugin and the info of the next response it is told about. */
function probe(): { plugin: Plugin; ended: Promise<ResponseInfo> } {
  const { promise, resolve } = deferred<ResponseInfo>();
  return { plugin: { name: 'probe', onResponse: (_ctx, info) => resolve(info) }, ended: promise };
}

/**
 * Reads the body slowly, pausing after each chunk until a later timer turn, and returns
 * it with the most the server's source was ever ahead of what had arrived.
 */
async function readSlowly(
  response: ClientResponse,
  pulled: () => number,
): Promise<{ received: Buffer; lead: number }> {
  const { body } = response;
  const parts: Buffer[] = [];
  let length = 0;
  let lead = 0;
  body.on('data', (part: Buffer) => {
    parts.push(part);
    length += part.length;
    lead = Math.max(lead, pulled() - length);
    body.pause();
    setTimeout(() => body.resume(), 1);
  });
  await once(body, 'end');
  return { received: Buffer.concat(parts), lead };
}

/**
 * For the cases that measure delivery time: on a busy machine a scheduling stall can
 * delay one attempt, where a buffering bug delays every one.
 */
const TIMED = { retry: 2 };

/** The cases in a matrix: every adapter over each transport its framework supports. */
const matrix = adapters.flatMap((fixture) =>
  fixture.transports.map((transport) => ({ name: fixture.name, transport, fixture })),
);

describe.each(matrix)('$name over $transport', ({ fixture, transport }) => {
  let app: RunningApp | undefined;
  const start = async (routes: RouteSpec[], plugins: Plugin[] = []): Promise<RunningApp> => {
    app = await fixture.start(createToolkit({ plugins }), routes, { transport, tls });
    return app;
  };
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  const http2 = transport === 'http2';

  it('streams a 2 MiB piped body to a slow reader, byte for byte', async () => {
    const { plugin, ended } = probe();
    const { source, pulled } = pullSource(payload);
    const running = await start(
      [
        {
          method: 'GET',
          path: '/stream',
          native: true,
          handler: () => ({
            headers: { 'content-type': 'application/octet-stream', 'x-streamed': 'yes' },
            body: new StreamBody(source),
          }),
        },
      ],
      [plugin],
    );
    const response = await sendRequest(running, { path: '/stream', ca: tls.cert });
    expect(response.status).toBe(200);
    expect(response.httpVersion).toBe(http2 ? '2' : '1.1');
    expect(response.headers['content-type']).toBe('application/octet-stream');
    expect(response.headers['x-streamed']).toBe('yes');
    expect(response.headers['content-length']).toBeUndefined();
    expect(response.headers['transfer-encoding']).toBe(http2 ? undefined : 'chunked');
    const { received, lead } = await readSlowly(response, pulled);
    expect(received.length).toBe(SIZE);
    expect(received.equals(payload)).toBe(true);
    // HTTP/2 flow control holds the source back to about the client's window; over
    // HTTP/1.1 on loopback the kernel's socket buffers take the whole 2 MiB at once.
    if (http2) expect(lead).toBeLessThan(SIZE / 2);
    expect(await ended).toMatchObject({ status: 200, aborted: false, error: undefined });
  });

  it("sends a 2 MiB file the framework's way, with its length and type", async () => {
    const { plugin, ended } = probe();
    const running = await start(
      [
        {
          method: 'GET',
          path: '/file',
          native: true,
          handler: () => ({ body: new FileBody(file, 'application/octet-stream') }),
        },
      ],
      [plugin],
    );
    const response = await sendRequest(running, { path: '/file', ca: tls.cert });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/octet-stream');
    expect(response.headers['content-length']).toBe(String(SIZE));
    const received = await readBody(response);
    expect(received.length).toBe(SIZE);
    expect(received.equals(payload)).toBe(true);
    // Not `aborted: false`: an HTTP/1.1 client that closes once it holds Content-Length
    // bytes may close before the file stream's end() reached the response, and Node then
    // reports it unfinished (a plain node:http server does the same).
    expect(await ended).toMatchObject({ status: 200 });
  });

  it('delivers each server-sent event within 20 ms of its write', TIMED, async () => {
    const writtenAt: number[] = [];
    const running = await start([
      {
        method: 'GET',
        path: '/events',
        native: true,
        handler: () => {
          const events = new PassThrough();
          // Real timers: the 50 ms cadence is the scenario, the delivery latency the measure.
          const tick = (): void => {
            writtenAt.push(performance.now());
            const n = writtenAt.length;
            events.write(`id: ${n}\ndata: tick ${n}\n\n`);
            if (n === 5) events.end();
            else setTimeout(tick, 50);
          };
          setTimeout(tick, 50);
          return {
            headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
            body: new StreamBody(events, { flushHeaders: true }),
          };
        },
      },
    ]);
    const response = await sendRequest(running, { path: '/events', ca: tls.cert });
    expect(response.status).toBe(200);
    // Express adds `; charset=utf-8` to every text type it is given.
    expect(response.headers['content-type']).toMatch(/^text\/event-stream(; charset=utf-8)?$/);
    expect(response.headers['cache-control']).toBe('no-cache');
    const receivedAt: number[] = [];
    let text = '';
    response.body.setEncoding('utf8');
    response.body.on('data', (chunk: string) => {
      const now = performance.now();
      text += chunk;
      const complete = text.split('\n\n').length - 1;
      while (receivedAt.length < complete) receivedAt.push(now);
    });
    await once(response.body, 'end');
    expect(text).toBe([1, 2, 3, 4, 5].map((n) => `id: ${n}\ndata: tick ${n}\n\n`).join(''));
    expect(receivedAt).toHaveLength(5);
    const latencies = receivedAt.map((at, i) => at - (writtenAt[i] as number));
    for (const latency of latencies) {
      expect(latency).toBeGreaterThanOrEqual(0);
      expect(latency).toBeLessThan(20);
    }
  });

  it('records a client reset mid-response as aborted, with the status it sent', async () => {
    const { plugin, ended } = probe();
    const source = endlessSource();
    const running = await start(
      [
        {
          method: 'GET',
          path: '/endless',
          native: true,
          handler: () => ({
            headers: { 'content-type': 'application/octet-stream' },
            body: new StreamBody(source),
          }),
        },
      ],
      [plugin],
    );
    const response = await sendRequest(running, { path: '/endless', ca: tls.cert });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/octet-stream');
    await once(response.body, 'data');
    response.reset();
    expect(await ended).toMatchObject({ status: 200, aborted: true });
    // The framework let go of the source instead of pulling it for nobody.
    if (!source.destroyed) await once(source, 'close');
    expect(source.readableEnded).toBe(false);
  });

  it(
    'answers Expect: 100-continue at once, then the final answer once the body came',
    TIMED,
    async () => {
      const running = await start([
        {
          method: 'POST',
          path: '/echo',
          handler: async (ctx) => ({ status: 201, body: { received: await ctx.request.body() } }),
        },
      ]);
      const response = await sendRequest(running, {
        method: 'POST',
        path: '/echo',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ hello: 'world' }),
        expectContinue: true,
        ca: tls.cert,
      });
      expect(response.continueAt).toBeDefined();
      expect((response.continueAt as number) - response.sentAt).toBeLessThan(100);
      expect(response.headersAt).toBeGreaterThanOrEqual(response.continueAt as number);
      expect(response.status).toBe(201);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse((await readBody(response)).toString())).toEqual({
        received: { hello: 'world' },
      });
    },
  );

  it('sends flushed headers at once and the body after the work', TIMED, async () => {
    const running = await start([
      {
        method: 'GET',
        path: '/slow',
        native: true,
        handler: () => {
          const body = new PassThrough();
          // The ~300 ms of work the headers must not wait for.
          setTimeout(() => body.end('done after the work'), 300);
          return {
            headers: { 'content-type': 'text/plain; charset=utf-8', 'x-flushed': 'yes' },
            body: new StreamBody(body, { flushHeaders: true }),
          };
        },
      },
    ]);
    const response = await sendRequest(running, { path: '/slow', ca: tls.cert });
    expect(response.headersAt - response.sentAt).toBeLessThan(50);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(response.headers['x-flushed']).toBe('yes');
    expect((await readBody(response)).toString()).toBe('done after the work');
    expect(performance.now() - response.sentAt).toBeGreaterThanOrEqual(290);
  });

  // Over http2 this is the HTTP/1.1 fallback (`allowHTTP1`): WebSockets over HTTP/2
  // (RFC 8441's extended CONNECT) are another protocol.
  it('switches a keep-alive connection that served a request to a WebSocket', TIMED, async () => {
    const running = await start([
      { method: 'GET', path: '/hello', handler: () => ({ body: { hello: 'world' } }) },
    ]);
    running.server.on('upgrade', acceptWebSocketEcho);
    const socket = await rawSocket(running, tls.cert);
    const reader = collect(socket);
    socket.write('GET /hello HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
    const first = await reader.next(httpMessage);
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toMatch(/^application\/json/);
    expect(first.headers.connection ?? 'keep-alive').toBe('keep-alive');
    expect(JSON.parse(first.body)).toEqual({ hello: 'world' });

    const key = randomBytes(16).toString('base64');
    const askedAt = performance.now();
    socket.write(
      'GET /socket HTTP/1.1\r\nhost: 127.0.0.1\r\nupgrade: websocket\r\nconnection: Upgrade\r\n' +
        `sec-websocket-key: ${key}\r\nsec-websocket-version: 13\r\n\r\n`,
    );
    const switched = await reader.next(httpMessage);
    expect(performance.now() - askedAt).toBeLessThan(100);
    expect(switched.status).toBe(101);
    expect(switched.headers.upgrade).toBe('websocket');
    expect(switched.headers['sec-websocket-accept']).toBe(websocketAccept(key));

    socket.write(encodeFrame(0x1, Buffer.from('ping over the upgraded socket'), randomBytes(4)));
    const echoed = await reader.next(takeFrame);
    expect(echoed.opcode).toBe(0x1);
    expect(echoed.payload.toString()).toBe('ping over the upgraded socket');
    socket.destroy();
  });
});

/** A reply of many TLS records and socket writes. */
const BYE_BYTES = 1024 * 1024;

/** Child processes of this file, killed after each test that leaves one running. */
const children = new Set<ChildProcess>();
afterEach(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  children.clear();
});

// gracefulShutdown drains node:http and node:https servers only (an HTTP/2 server has no
// closeIdleConnections), so this runs over both HTTP/1.1 transports.
const shutdownMatrix = adapters.flatMap((fixture) =>
  (['http', 'https'] as const).map((transport) => ({ name: fixture.name, transport })),
);

describe.each(shutdownMatrix)(
  '$name over $transport, SIGTERM in the turn of a reply',
  ({ name, transport }) => {
    it('sends the whole response, then drains and exits 0', () =>
      expectWholeReplyThenExit0(name, transport, BYE_BYTES));
  },
);

// KNOWN FAILURE, in @org/observability's gracefulShutdown (and Node), not in an adapter:
// its drain calls server.close(), and Node's close() runs closeIdleConnections(), which
// counts a connection idle as soon as res.end() was called and destroys its socket with
// the reply's tail still queued. Loopback socket buffers absorb about 5 MiB, so only a
// larger reply shows it: the client gets ~5 MiB of 16 and `aborted`.
describe.each(['http', 'https'] as const)(
  'gracefulShutdown and a 16 MiB reply ended in the turn of SIGTERM, over %s',
  (transport) => {
    it('sends the whole response before closing its connection', () =>
      expectWholeReplyThenExit0('node', transport, 16 * 1024 * 1024));
  },
);

/** Starts the shutdown fixture, asks for a reply of `bytes`, expects all of it and exit code 0. */
async function expectWholeReplyThenExit0(
  name: AdapterName,
  transport: 'http' | 'https',
  bytes: number,
): Promise<void> {
  const app = await startShutdownApp({ name, transport, bytes, tls, children });
  const response = await sendRequest({ url: app.url, transport }, { path: '/bye', ca: tls.cert });
  expect(response.status).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain/);
  expect(response.headers['content-length']).toBe(String(bytes));
  // A cut reply fails with what arrived, not only the client's `aborted`.
  const parts: Buffer[] = [];
  let cut: string | undefined;
  try {
    for await (const part of response.body) parts.push(part as Buffer);
  } catch (error) {
    cut = (error as Error).message;
  }
  const body = Buffer.concat(parts);
  expect({ received: body.length, cut }).toEqual({ received: bytes, cut: undefined });
  expect(body.equals(Buffer.alloc(bytes, 'b'))).toBe(true);
  expect(await app.exited).toBe(0);
}
