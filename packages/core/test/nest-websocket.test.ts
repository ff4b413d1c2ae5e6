import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import { ConfigurationError, createToolkit } from '@org/core';
import {
  Dep,
  type OrgGatewayOptions,
  OrgToolkitModule,
  OrgWsAdapter,
  webSocketValue,
} from '@org/core/nest';
import { rateLimitPlugin } from '@org/security';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type AppUser,
  auth,
  connect,
  opened,
  PROBLEM,
  refused,
  sendUnmaskedFrame,
} from '../../auth/test/websocket-client.js';
import { decorate } from './nest-decorate.js';

/** What the gateways saw of each accepted connection. */
const seen: { path: string; sub: string; url: string | undefined }[] = [];

/** A `ws` client, as far as the gateways use it. */
interface Client {
  send(data: string): void;
  close(code?: number): void;
}

class EchoGateway {
  handleConnection(client: Client, request: IncomingMessage) {
    const principal = webSocketValue(client, auth.principal);
    seen.push({ path: '/ws', sub: principal.id, url: request.url });
    client.send(JSON.stringify({ type: 'hello', sub: principal.id }));
  }
  echo(client: Client, data: unknown, user: AppUser) {
    return {
      event: 'echo',
      data: { data, sub: user.id, same: webSocketValue(client, auth.currentUser) === user },
    };
  }
}
decorate(
  EchoGateway,
  'echo',
  [SubscribeMessage('echo')],
  [ConnectedSocket(), MessageBody(), Dep(auth.currentUser)],
);
WebSocketGateway<OrgGatewayOptions>({ path: '/ws', dependencies: { user: auth.currentUser } })(
  EchoGateway,
);

class AdminGateway {
  handleConnection(client: Client) {
    seen.push({ path: '/admin', sub: webSocketValue(client, auth.currentUser).id, url: undefined });
    client.send(JSON.stringify({ type: 'hello' }));
  }
}
WebSocketGateway<OrgGatewayOptions>({
  path: '/admin',
  dependencies: { admin: auth.requireRoles('admin') },
})(AdminGateway);

class LimitedGateway {
  handleConnection(client: Client) {
    seen.push({ path: '/limited', sub: '', url: undefined });
    client.close(1000);
  }
}
WebSocketGateway({ path: '/limited/' })(LimitedGateway);

const platforms = [
  { name: 'express', platform: () => new ExpressAdapter() },
  { name: 'fastify', platform: () => new FastifyAdapter() },
] as const;

describe.each(platforms)('NestJS gateways on OrgWsAdapter ($name)', ({ platform }) => {
  let app: INestApplication;
  let adapter: OrgWsAdapter;
  let url: string;
  const reported: unknown[] = [];

  beforeAll(async () => {
    const toolkit = createToolkit({
      plugins: [
        rateLimitPlugin({
          limit: 2,
          windowMs: 60_000,
          skip: (ctx) => ctx.request.path !== '/limited',
        }),
      ],
      onError: (error) => void reported.push(error),
    });
    class AppModule {}
    Module({
      imports: [OrgToolkitModule.forRoot({ toolkit })],
      providers: [EchoGateway, AdminGateway, LimitedGateway],
    })(AppModule);
    app = await NestFactory.create(AppModule, platform(), { bodyParser: false, logger: false });
    adapter = new OrgWsAdapter(app, { toolkit, dependencies: { principal: auth.principal } });
    app.useWebSocketAdapter(adapter);
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    url = `http://127.0.0.1:${port}`;
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  afterAll(async () => {
    await app.close();
  });

  it('refuses an upgrade without a token with a 401 problem; the gateway never sees it', async () => {
    const before = seen.length;
    const outcome = refused(await connect(`${url}/ws`));
    expect(outcome.status).toBe(401);
    expect(outcome.headers['content-type']).toBe(PROBLEM);
    expect(outcome.headers['www-authenticate']).toMatch(/^Bearer realm="example"/);
    expect(outcome.headers.connection).toBe('close');
    expect(JSON.parse(outcome.body)).toMatchObject({ status: 401, code: 'ERR_TOKEN_MISSING' });
    expect(seen.length).toBe(before);
  });

  it('refuses a forged token with a 401 invalid_token problem', async () => {
    const before = seen.length;
    const outcome = refused(
      await connect(`${url}/ws`, { headers: { authorization: 'Bearer forged' } }),
    );
    expect(outcome.status).toBe(401);
    expect(outcome.headers['content-type']).toBe(PROBLEM);
    expect(outcome.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    expect(seen.length).toBe(before);
  });

  it("refuses a user without the gateway's role with a 403 problem; admits an admin", async () => {
    const before = seen.length;
    const outcome = refused(
      await connect(`${url}/admin`, { headers: { authorization: 'Bearer user-token' } }),
    );
    expect(outcome.status).toBe(403);
    expect(outcome.headers['content-type']).toBe(PROBLEM);
    expect(JSON.parse(outcome.body)).toMatchObject({ status: 403 });
    expect(seen.length).toBe(before);
    const admin = opened(
      await connect(`${url}/admin`, { headers: { authorization: 'Bearer admin-token' } }),
    );
    expect(await admin.next()).toEqual({ type: 'hello' });
    expect(seen.at(-1)).toMatchObject({ path: '/admin', sub: 'u-admin' });
    admin.ws.close();
  });

  it('rate limits upgrades like requests: 429 with Retry-After', async () => {
    for (let i = 0; i < 2; i++) {
      const ok = opened(
        await connect(`${url}/limited`, { headers: { authorization: 'Bearer user-token' } }),
      );
      expect(await ok.closed).toBe(1000);
    }
    const before = seen.length;
    const outcome = refused(
      await connect(`${url}/limited`, { headers: { authorization: 'Bearer user-token' } }),
    );
    expect(outcome.status).toBe(429);
    expect(outcome.headers['content-type']).toBe(PROBLEM);
    expect(Number(outcome.headers['retry-after'])).toBeGreaterThan(0);
    expect(seen.length).toBe(before);
  });

  it('says hello from handleConnection and echoes through @SubscribeMessage, with the values', async () => {
    const client = opened(
      await connect(`${url}/ws?room=1`, { headers: { authorization: 'Bearer user-token' } }),
    );
    expect(await client.next()).toEqual({ type: 'hello', sub: 'u-user' });
    expect(seen.at(-1)).toEqual({ path: '/ws', sub: 'u-user', url: '/ws?room=1' });
    client.ws.send(JSON.stringify({ event: 'echo', data: 'ping' }));
    expect(await client.next()).toEqual({
      event: 'echo',
      data: { data: 'ping', sub: 'u-user', same: true },
    });
    client.ws.close(1000);
    expect(await client.closed).toBe(1000);
  });

  it('accepts Sec-WebSocket-Protocol: bearer, <token> and answers bearer, never the token', async () => {
    const bare = opened(await connect(`${url}/ws`, { protocols: ['bearer', 'admin-token'] }));
    expect(bare.protocol).toBe('bearer');
    expect(await bare.next()).toEqual({ type: 'hello', sub: 'u-admin' });
    bare.ws.close();
    const chat = opened(
      await connect(`${url}/ws`, { protocols: ['chat.v1', 'bearer', 'user-token'] }),
    );
    expect(chat.protocol).toBe('chat.v1');
    expect(await chat.next()).toEqual({ type: 'hello', sub: 'u-user' });
    chat.ws.close();
  });

  it('closes the connection with 1008 when the access token expires', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: Date.now() });
    const client = opened(
      await connect(`${url}/ws`, { headers: { authorization: 'Bearer user-token' } }),
    );
    expect(await client.next()).toMatchObject({ type: 'hello' });
    vi.advanceTimersByTime(3_599_000);
    client.ws.send(JSON.stringify({ event: 'echo', data: 'still here' }));
    expect(await client.next()).toMatchObject({ event: 'echo', data: { data: 'still here' } });
    vi.advanceTimersByTime(1_000);
    expect(await client.closed).toBe(1008);
  });

  it("survives a peer's bad frame: ws closes that connection and the app goes on", async () => {
    // RFC 6455 section 5.1: a client frame without the mask bit is a protocol error.
    await sendUnmaskedFrame(url);
    const client = opened(
      await connect(`${url}/ws`, { headers: { authorization: 'Bearer user-token' } }),
    );
    expect(await client.next()).toEqual({ type: 'hello', sub: 'u-user' });
    client.ws.close();
    expect(reported).toEqual([]);
  });

  it('answers a path no gateway serves with a 404 problem', async () => {
    const outcome = refused(await connect(`${url}/elsewhere`));
    expect(outcome.status).toBe(404);
    expect(outcome.headers['content-type']).toBe(PROBLEM);
  });

  it('closes every open connection with 1001 on closeConnections()', async () => {
    const client = opened(
      await connect(`${url}/ws`, { headers: { authorization: 'Bearer user-token' } }),
    );
    expect(await client.next()).toMatchObject({ type: 'hello' });
    adapter.closeConnections();
    expect(await client.closed).toBe(1001);
  });
});

describe('OrgWsAdapter options', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    const toolkit = createToolkit();
    class AppModule {}
    Module({ providers: [EchoGateway] })(AppModule);
    app = await NestFactory.create(AppModule, new ExpressAdapter(), { logger: false });
    app.useWebSocketAdapter(
      new OrgWsAdapter(app, {
        toolkit,
        dependencies: { principal: auth.principal },
        unmatched: 'ignore',
        closeOnExpiry: false,
      }),
    );
    // Another upgrade listener on the same server, for the paths no gateway serves.
    app.getHttpServer().on('upgrade', (request: IncomingMessage, socket: Duplex) => {
      if (request.url === '/other')
        socket.end('HTTP/1.1 418 I am a teapot\r\nconnection: close\r\n\r\n');
    });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    url = `http://127.0.0.1:${port}`;
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  afterAll(async () => {
    await app.close();
  });

  it("unmatched: 'ignore' leaves other paths to another upgrade listener", async () => {
    const outcome = refused(await connect(`${url}/other`));
    expect(outcome.status).toBe(418);
  });

  it('closeOnExpiry: false keeps the connection open past the expiry', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: Date.now() });
    const client = opened(
      await connect(`${url}/ws`, { headers: { authorization: 'Bearer user-token' } }),
    );
    expect(await client.next()).toMatchObject({ type: 'hello' });
    vi.advanceTimersByTime(7_200_000);
    client.ws.send(JSON.stringify({ event: 'echo', data: 'later' }));
    expect(await client.next()).toMatchObject({ event: 'echo', data: { data: 'later' } });
    client.ws.close(1000);
    expect(await client.closed).toBe(1000);
  });
});

describe('OrgWsAdapter configuration', () => {
  it('refuses a missing toolkit or dependencies, and an unknown client', () => {
    const toolkit = createToolkit();
    expect(() => new OrgWsAdapter({}, { toolkit } as never)).toThrow(ConfigurationError);
    expect(() => new OrgWsAdapter({}, { dependencies: {} } as never)).toThrow(ConfigurationError);
    expect(() => webSocketValue({}, auth.principal)).toThrow(ConfigurationError);
  });
});
