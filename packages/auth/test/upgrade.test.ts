import { createToolkit, createUpgradeHandler, webSocketProtocols } from '@org/core';
import { rateLimitPlugin } from '@org/security';
import { type AdapterFixture, adapters, type RunningApp } from '@org/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocketServer } from 'ws';
import { auth, connect, opened, refused, sendUnmaskedFrame } from './websocket-client.js';

describe.each(adapters)('WebSocket upgrades on $name', (fixture: AdapterFixture) => {
  let app: RunningApp;
  let connections = 0;
  const wss = new WebSocketServer({ noServer: true, handleProtocols: webSocketProtocols() });

  beforeAll(async () => {
    const toolkit = createToolkit({
      plugins: [
        rateLimitPlugin({
          limit: 2,
          windowMs: 60_000,
          skip: (ctx) => ctx.request.path !== '/limited',
        }),
      ],
    });
    app = await fixture.start(toolkit, [
      { method: 'GET', path: '/health', handler: () => ({ body: { ok: true } }) },
    ]);
    // One listener on the framework's own Node server serves every adapter.
    app.server.on(
      'upgrade',
      createUpgradeHandler(toolkit, {
        path: '/ws',
        unmatched: 'ignore',
        dependencies: { user: auth.currentUser, principal: auth.principal },
        webSocketServer: wss,
        onConnection(ws, _ctx, { user }) {
          connections++;
          ws.send(JSON.stringify({ type: 'hello', sub: user.id }));
          ws.on('message', (data) => ws.send(JSON.stringify({ type: 'echo', data: String(data) })));
        },
      }),
    );
    app.server.on(
      'upgrade',
      createUpgradeHandler(toolkit, {
        path: '/admin',
        unmatched: 'ignore',
        dependencies: { admin: auth.requireRoles('admin') },
        webSocketServer: wss,
        onConnection: () => {
          connections++;
        },
      }),
    );
    app.server.on(
      'upgrade',
      createUpgradeHandler(toolkit, {
        path: '/limited',
        unmatched: 'ignore',
        webSocketServer: wss,
        onConnection: (ws) => {
          connections++;
          ws.close(1000);
        },
      }),
    );
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  afterAll(async () => {
    for (const client of wss.clients) client.terminate();
    await app.close();
  });

  it('answers an upgrade without a token with a 401 problem and no connection', async () => {
    const before = connections;
    const outcome = refused(await connect(`${app.url}/ws`));
    expect(outcome.status).toBe(401);
    expect(outcome.headers['content-type']).toBe('application/problem+json');
    expect(outcome.headers['www-authenticate']).toMatch(/^Bearer realm="example"/);
    expect(outcome.headers.connection).toBe('close');
    expect(JSON.parse(outcome.body)).toMatchObject({ status: 401 });
    expect(connections).toBe(before);
  });

  it('answers an invalid token with a 401', async () => {
    const outcome = refused(
      await connect(`${app.url}/ws`, { headers: { authorization: 'Bearer nope' } }),
    );
    expect(outcome.status).toBe(401);
  });

  it('answers a user without the role with a 403 problem', async () => {
    const before = connections;
    const outcome = refused(
      await connect(`${app.url}/admin`, { headers: { authorization: 'Bearer user-token' } }),
    );
    expect(outcome.status).toBe(403);
    expect(outcome.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(outcome.body)).toMatchObject({ status: 403 });
    expect(connections).toBe(before);
    const admitted = opened(
      await connect(`${app.url}/admin`, { headers: { authorization: 'Bearer admin-token' } }),
    );
    admitted.ws.close();
  });

  it('rate limits upgrades like requests: 429 with Retry-After', async () => {
    for (let i = 0; i < 2; i++) {
      const ok = opened(await connect(`${app.url}/limited`));
      expect(await ok.closed).toBe(1000);
    }
    const outcome = refused(await connect(`${app.url}/limited`));
    expect(outcome.status).toBe(429);
    expect(outcome.headers['content-type']).toBe('application/problem+json');
    expect(Number(outcome.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('connects with an Authorization header, says hello and echoes', async () => {
    const client = opened(
      await connect(`${app.url}/ws`, { headers: { authorization: 'Bearer user-token' } }),
    );
    expect(await client.next()).toEqual({ type: 'hello', sub: 'u-user' });
    client.ws.send('ping');
    expect(await client.next()).toEqual({ type: 'echo', data: 'ping' });
    client.ws.close(1000);
    expect(await client.closed).toBe(1000);
  });

  it('connects with Sec-WebSocket-Protocol: bearer, <token> and never echoes the token', async () => {
    const client = opened(
      await connect(`${app.url}/ws`, { protocols: ['chat.v1', 'bearer', 'admin-token'] }),
    );
    expect(client.protocol).toBe('chat.v1');
    expect(await client.next()).toEqual({ type: 'hello', sub: 'u-admin' });
    client.ws.close();
    const bare = opened(await connect(`${app.url}/ws`, { protocols: ['bearer', 'user-token'] }));
    expect(bare.protocol).toBe('bearer');
    bare.ws.close();
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
});

describe('createUpgradeHandler options', () => {
  const node = adapters.find((fixture) => fixture.name === 'node') as AdapterFixture;
  let app: RunningApp;
  let warnings: string[];
  const wss = new WebSocketServer({ noServer: true, handleProtocols: webSocketProtocols() });

  beforeAll(async () => {
    const toolkit = createToolkit();
    app = await node.start(toolkit, []);
    const emitWarning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const handler = () =>
      createUpgradeHandler(toolkit, {
        path: '/ws',
        queryToken: 'access_token',
        dependencies: { user: auth.currentUser },
        webSocketServer: wss,
        onConnection(ws, ctx, { user }) {
          ws.send(
            JSON.stringify({ type: 'hello', sub: user.id, query: ctx.request.query.toString() }),
          );
        },
      });
    app.server.on('upgrade', handler());
    handler();
    warnings = emitWarning.mock.calls.map((call) => String(call[0]));
    emitWarning.mockRestore();
  });
  afterAll(async () => {
    for (const client of wss.clients) client.terminate();
    await app.close();
  });

  it('accepts ?access_token= only when opted in, warning once, and hides it from the query', async () => {
    expect(warnings.filter((w) => w.includes("query parameter 'access_token'"))).toHaveLength(1);
    const client = opened(await connect(`${app.url}/ws?room=1&access_token=user-token`));
    expect(await client.next()).toEqual({ type: 'hello', sub: 'u-user', query: 'room=1' });
    client.ws.close();
  });

  it("survives a peer's bad frame: ws closes the connection and the process goes on", async () => {
    // RFC 6455 section 5.1: a client frame without the mask bit is a protocol error.
    await sendUnmaskedFrame(app.url);
    // Still serving.
    const client = opened(
      await connect(`${app.url}/ws`, { headers: { authorization: 'Bearer user-token' } }),
    );
    expect(await client.next()).toMatchObject({ type: 'hello', sub: 'u-user' });
    client.ws.close();
  });

  it('answers another path with a 404 problem unless told to ignore it', async () => {
    const outcome = refused(await connect(`${app.url}/elsewhere`));
    expect(outcome.status).toBe(404);
    expect(outcome.headers['content-type']).toBe('application/problem+json');
  });
});

describe('the token extractor on upgrade requests', async () => {
  const { createTokenExtractor } = await import('@org/auth');
  const request = (method: string, headers: Record<string, string>) =>
    ({
      request: {
        method,
        header: (name: string) => headers[name.toLowerCase()],
        headerValues: (name: string) => {
          const value = headers[name.toLowerCase()];
          return value === undefined ? [] : [value];
        },
        cookie: () => undefined,
      },
    }) as unknown as Parameters<ReturnType<typeof createTokenExtractor>>[0];
  const upgrade = { upgrade: 'websocket', 'sec-websocket-protocol': 'chat, bearer, abc.def' };

  it('reads Sec-WebSocket-Protocol: bearer, <token> on a WebSocket upgrade only', () => {
    const extract = createTokenExtractor();
    expect(extract(request('GET', upgrade))).toBe('abc.def');
    expect(
      extract(request('GET', { ...upgrade, 'sec-websocket-protocol': 'access_token, xyz' })),
    ).toBe('xyz');
    expect(
      extract(request('GET', { 'sec-websocket-protocol': 'bearer, abc.def' })),
    ).toBeUndefined();
    expect(extract(request('POST', upgrade))).toBeUndefined();
    expect(
      extract(request('GET', { ...upgrade, 'sec-websocket-protocol': 'chat' })),
    ).toBeUndefined();
  });

  it('prefers the Authorization header, and can be turned off', () => {
    expect(
      createTokenExtractor()(request('GET', { ...upgrade, authorization: 'Bearer hdr' })),
    ).toBe('hdr');
    expect(createTokenExtractor({ webSocketProtocols: false })(request('GET', upgrade))).toBe(
      undefined,
    );
  });
});
