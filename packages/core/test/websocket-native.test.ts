// WebSockets through each framework's own integration, `@fastify/websocket` and
// `@hono/node-ws`: the same plugins and dependencies run before the `101` as with
// `createUpgradeHandler` (packages/auth/test/upgrade.test.ts), over real HTTP.
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fastifyWebsocket from '@fastify/websocket';
import { createAdaptorServer } from '@hono/node-server';
import { createNodeWebSocket } from '@hono/node-ws';
import {
  ConfigurationError,
  createToolkit,
  defineDependency,
  type Toolkit,
  webSocketProtocols,
} from '@org/core';
import { createFastifyAdapter } from '@org/core/fastify';
import { createHonoAdapter } from '@org/core/hono';
import { rateLimitPlugin } from '@org/security';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  auth,
  connect,
  opened,
  PROBLEM,
  refused,
  sendUnmaskedFrame,
} from '../../auth/test/websocket-client.js';

/** How each request with a `session` ended, from its teardown. */
const sessionsEnded: { label: string | undefined; status: number; failed: boolean }[] = [];
const session = defineDependency({
  name: 'session',
  resolve: () => 'session',
  teardown: (_value, { status, failed }, ctx) => {
    sessionsEnded.push({ label: ctx.request.header('x-test'), status, failed });
  },
});

/** What each app counts and hears. */
interface Observed {
  /** Connections the user's handler saw. */
  connections: number;
  /** Errors the toolkit's error hooks received. */
  readonly errors: unknown[];
}

interface RunningApp {
  readonly url: string;
  close(): Promise<void>;
}

/** The same four endpoints on each framework: `/ws`, `/admin`, `/limited`, `/boom`. */
type StartApp = (toolkit: Toolkit, observed: Observed) => Promise<RunningApp>;

const hello = (sub: string) => JSON.stringify({ type: 'hello', sub });
const echo = (data: unknown) => JSON.stringify({ type: 'echo', data: String(data) });

const startFastify: StartApp = async (toolkit, observed) => {
  const kit = createFastifyAdapter(toolkit);
  const app = Fastify({ ...kit.serverOptions, forceCloseConnections: true });
  // First: its onRequest marks upgrades, so a refused one's socket is closed.
  await app.register(fastifyWebsocket, { options: { handleProtocols: webSocketProtocols() } });
  await app.register(kit.plugin);
  app.get(
    '/ws',
    kit.webSocket(
      { user: auth.currentUser, principal: auth.principal, session },
      (socket, _r, { user }) => {
        observed.connections++;
        socket.send(hello(user.id));
        socket.on('message', (data) => socket.send(echo(data)));
      },
    ),
  );
  app.get(
    '/admin',
    kit.webSocket({ admin: auth.requireRoles('admin') }, (socket, _r, { admin }) => {
      observed.connections++;
      socket.send(hello(admin.id));
    }),
  );
  app.get(
    '/limited',
    kit.webSocket({}, (socket) => {
      observed.connections++;
      socket.close(1000);
    }),
  );
  app.get(
    '/boom',
    kit.webSocket({ user: auth.currentUser }, async () => {
      observed.connections++;
      throw new Error('boom');
    }),
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      // Closing waits for every WebSocket's closing handshake: end them first.
      for (const client of app.websocketServer.clients) client.terminate();
      await app.close();
    },
  };
};

const startHono: StartApp = async (toolkit, observed) => {
  const kit = createHonoAdapter(toolkit);
  const app = kit.install(new Hono());
  const { upgradeWebSocket, wss } = createNodeWebSocket({ app });
  app.get(
    '/ws',
    kit.upgradeWebSocket(upgradeWebSocket, {
      dependencies: { user: auth.currentUser, principal: auth.principal, session },
      events: (c, { user }) => {
        observed.connections++;
        // The values are hono variables too, as with kit.route.
        expect(c.get('user')).toBe(user);
        return {
          onOpen: (_event, ws) => ws.send(hello(user.id)),
          onMessage: (event, ws) => ws.send(echo(event.data)),
        };
      },
      // @hono/node-ws 1.3.1 builds an `ErrorEvent` for a peer's bad frame, which Node 24
      // lacks; the ReferenceError it catches would be logged with console.error.
      upgradeOptions: { onError: () => {} },
    }),
  );
  app.get(
    '/admin',
    kit.upgradeWebSocket(upgradeWebSocket, {
      dependencies: { admin: auth.requireRoles('admin') },
      events: (_c, { admin }) => {
        observed.connections++;
        return { onOpen: (_event, ws) => ws.send(hello(admin.id)) };
      },
    }),
  );
  app.get(
    '/limited',
    kit.upgradeWebSocket(upgradeWebSocket, {
      events: () => {
        observed.connections++;
        return { onOpen: (_event, ws) => ws.close(1000) };
      },
    }),
  );
  app.get(
    '/boom',
    kit.upgradeWebSocket(upgradeWebSocket, {
      dependencies: { user: auth.currentUser },
      events: () => {
        observed.connections++;
        return {
          onOpen: () => {
            throw new Error('boom');
          },
        };
      },
    }),
  );
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  server.on('upgrade', kit.upgradeListener({ app, webSocketServer: wss }));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const client of wss.clients) client.terminate();
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
};

describe.each([
  { name: 'fastify (@fastify/websocket)', start: startFastify },
  { name: 'hono (@hono/node-ws)', start: startHono },
])('WebSockets on $name', ({ start }) => {
  let app: RunningApp;
  const observed: Observed = { connections: 0, errors: [] };

  beforeAll(async () => {
    const toolkit = createToolkit({
      plugins: [
        rateLimitPlugin({
          limit: 2,
          windowMs: 60_000,
          skip: (ctx) => ctx.request.path !== '/limited',
        }),
      ],
      onError: (error) => observed.errors.push(error),
    });
    app = await start(toolkit, observed);
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers an upgrade without a token with a 401 problem, never calling the handler', async () => {
    const before = observed.connections;
    const outcome = refused(await connect(`${app.url}/ws`));
    expect(outcome.status).toBe(401);
    expect(outcome.headers['content-type']).toBe(PROBLEM);
    expect(outcome.headers['www-authenticate']).toMatch(/^Bearer realm="example"/);
    expect(JSON.parse(outcome.body)).toMatchObject({ status: 401, code: 'ERR_TOKEN_MISSING' });
    expect(observed.connections).toBe(before);
  });

  it('answers a forged token with a 401 invalid_token problem', async () => {
    const before = observed.connections;
    const outcome = refused(
      await connect(`${app.url}/ws`, { headers: { authorization: 'Bearer forged' } }),
    );
    expect(outcome.status).toBe(401);
    expect(outcome.headers['content-type']).toBe(PROBLEM);
    expect(outcome.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    expect(JSON.parse(outcome.body)).toMatchObject({ status: 401 });
    expect(observed.connections).toBe(before);
  });

  it('answers a user without the role with a 403 problem; an admin connects', async () => {
    const before = observed.connections;
    const outcome = refused(
      await connect(`${app.url}/admin`, { headers: { authorization: 'Bearer user-token' } }),
    );
    expect(outcome.status).toBe(403);
    expect(outcome.headers['content-type']).toBe(PROBLEM);
    expect(JSON.parse(outcome.body)).toMatchObject({ status: 403 });
    expect(observed.connections).toBe(before);
    const admin = opened(
      await connect(`${app.url}/admin`, { headers: { authorization: 'Bearer admin-token' } }),
    );
    expect(await admin.next()).toEqual({ type: 'hello', sub: 'u-admin' });
    admin.ws.close();
  });

  it('rate limits upgrades like requests: 429 problem with Retry-After', async () => {
    for (let i = 0; i < 2; i++) {
      const ok = opened(await connect(`${app.url}/limited`));
      // The rate-limit headers plugins set go out with the 101 too.
      expect(await ok.closed).toBe(1000);
    }
    const before = observed.connections;
    const outcome = refused(await connect(`${app.url}/limited`));
    expect(outcome.status).toBe(429);
    expect(outcome.headers['content-type']).toBe(PROBLEM);
    expect(Number(outcome.headers['retry-after'])).toBeGreaterThan(0);
    expect(JSON.parse(outcome.body)).toMatchObject({ status: 429 });
    expect(observed.connections).toBe(before);
  });

  it('connects with Authorization, says hello and echoes', async () => {
    const client = opened(
      await connect(`${app.url}/ws`, { headers: { authorization: 'Bearer user-token' } }),
    );
    expect(await client.next()).toEqual({ type: 'hello', sub: 'u-user' });
    client.ws.send('ping');
    expect(await client.next()).toEqual({ type: 'echo', data: 'ping' });
    client.ws.close(1000);
    expect(await client.closed).toBe(1000);
  });

  it('connects with Sec-WebSocket-Protocol: bearer, <token>, answering bearer, never the token', async () => {
    const client = opened(await connect(`${app.url}/ws`, { protocols: ['bearer', 'admin-token'] }));
    expect(client.protocol).toBe('bearer');
    expect(await client.next()).toEqual({ type: 'hello', sub: 'u-admin' });
    client.ws.close();
    const chat = opened(
      await connect(`${app.url}/ws`, { protocols: ['chat.v1', 'bearer', 'user-token'] }),
    );
    expect(chat.protocol).toBe('chat.v1');
    chat.ws.close();
  });

  it('answers a GET without Upgrade: websocket with a 400 problem', async () => {
    const response = await fetch(`${app.url}/ws`);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe(PROBLEM);
  });

  it('closes the connection with 1008 when the access token expires', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: Date.now() });
    const client = opened(
      await connect(`${app.url}/ws`, { headers: { authorization: 'Bearer user-token' } }),
    );
    expect(await client.next()).toMatchObject({ type: 'hello' });
    vi.advanceTimersByTime(3_599_000);
    client.ws.send('still here');
    expect(await client.next()).toEqual({ type: 'echo', data: 'still here' });
    vi.advanceTimersByTime(1_000);
    expect(await client.closed).toBe(1008);
  });

  it('ends the request (teardowns, 101) when the connection closes, not at the handshake', async () => {
    const label = `teardown-${Math.random()}`;
    const ended = () => sessionsEnded.filter((end) => end.label === label);
    const client = opened(
      await connect(`${app.url}/ws`, {
        headers: { authorization: 'Bearer user-token', 'x-test': label },
      }),
    );
    expect(await client.next()).toMatchObject({ type: 'hello' });
    expect(ended()).toEqual([]);
    client.ws.close(1000);
    await client.closed;
    await vi.waitFor(() => expect(ended()).toEqual([{ label, status: 101, failed: false }]));
  });

  it("reports a handler's failure to the error hooks and closes with 1011", async () => {
    const before = observed.errors.length;
    const client = opened(
      await connect(`${app.url}/boom`, { headers: { authorization: 'Bearer user-token' } }),
    );
    expect(await client.closed).toBe(1011);
    expect(observed.errors.slice(before)).toEqual([expect.objectContaining({ message: 'boom' })]);
  });

  it("survives a peer's bad frame: the connection closes and the process goes on", async () => {
    // RFC 6455 section 5.1: a client frame without the mask bit is a protocol error.
    await sendUnmaskedFrame(app.url);
    const client = opened(
      await connect(`${app.url}/ws`, { headers: { authorization: 'Bearer user-token' } }),
    );
    expect(await client.next()).toMatchObject({ type: 'hello', sub: 'u-user' });
    client.ws.close();
  });
});

describe('kit.webSocket on fastify', () => {
  it('refuses, at start-up, a WebSocket route when @fastify/websocket comes after kit.plugin', async () => {
    const kit = createFastifyAdapter(createToolkit());
    const app = Fastify();
    await app.register(kit.plugin);
    await app.register(fastifyWebsocket);
    expect(() =>
      app.get(
        '/ws',
        kit.webSocket({}, (socket) => socket.close()),
      ),
    ).toThrow(ConfigurationError);
    await app.close();
  });
});
