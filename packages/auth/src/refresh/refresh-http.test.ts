import { once } from 'node:events';
import {
  createRefreshTokenManager,
  loginCredentials,
  MemoryRefreshTokenStore,
  RedisRefreshTokenStore,
  type RefreshTokenManager,
} from '@org/auth';
import { createToolkit, requestBody } from '@org/core';
import {
  adapters,
  type RedisServer,
  type RouteSpec,
  type RunningApp,
  startRedis,
} from '@org/test-support';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';

const refreshBody = requestBody(z.object({ refresh_token: z.string() }));

function routes(manager: RefreshTokenManager): RouteSpec[] {
  return [
    {
      method: 'POST',
      path: '/login',
      dependencies: { credentials: loginCredentials() },
      handler: async (_ctx, values) => {
        const { username } = values.credentials as { username: string };
        const issued = await manager.issue(username);
        return { body: { refresh_token: issued.token } };
      },
    },
    {
      method: 'POST',
      path: '/refresh',
      dependencies: { payload: refreshBody },
      handler: async (_ctx, values) => {
        const next = await manager.rotate(
          (values.payload as { refresh_token: string }).refresh_token,
        );
        return { body: { refresh_token: next.token } };
      },
    },
    {
      method: 'POST',
      path: '/logout',
      dependencies: { payload: refreshBody },
      handler: async (_ctx, values) => {
        await manager.revoke((values.payload as { refresh_token: string }).refresh_token);
        return { status: 204 };
      },
    },
  ];
}

describe.each(adapters)('refresh endpoints on $name', (fixture) => {
  let redis: RedisServer;
  let client: Redis;
  let memoryApp: RunningApp;
  let redisApp: RunningApp;

  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url, { maxRetriesPerRequest: 1, commandTimeout: 1000 });
    client.on('error', () => {});
    memoryApp = await fixture.start(
      createToolkit(),
      routes(createRefreshTokenManager({ store: new MemoryRefreshTokenStore() })),
    );
    redisApp = await fixture.start(
      createToolkit(),
      routes(createRefreshTokenManager({ store: new RedisRefreshTokenStore({ client }) })),
    );
  });
  afterAll(async () => {
    await memoryApp?.close();
    await redisApp?.close();
    client.disconnect();
    await redis.stop();
  });

  const post = (app: RunningApp, path: string, body: unknown) =>
    fetch(`${app.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const login = async (app: RunningApp) => {
    const response = await post(app, '/login', { email: 'a@example.test', password: 'pw' });
    expect(response.status).toBe(200);
    return ((await response.json()) as { refresh_token: string }).refresh_token;
  };

  for (const which of ['memory', 'redis'] as const) {
    const appOf = () => (which === 'memory' ? memoryApp : redisApp);

    it(`${which}: rotates, and a replay is a 401 problem that revokes the family`, async () => {
      const app = appOf();
      const first = await login(app);
      const rotated = await post(app, '/refresh', { refresh_token: first });
      expect(rotated.status).toBe(200);
      const second = ((await rotated.json()) as { refresh_token: string }).refresh_token;

      const replay = await post(app, '/refresh', { refresh_token: first });
      expect(replay.status).toBe(401);
      expect(replay.headers.get('content-type')).toContain('application/problem+json');
      expect(replay.headers.get('www-authenticate')).toContain('error="invalid_token"');
      expect(await replay.json()).toMatchObject({ status: 401, code: 'ERR_REFRESH_REUSED' });

      const newest = await post(app, '/refresh', { refresh_token: second });
      expect(newest.status).toBe(401);
      expect(await newest.json()).toMatchObject({ code: 'ERR_REFRESH_INVALID' });
    });

    it(`${which}: logout answers 204 and revokes the family`, async () => {
      const app = appOf();
      const token = await login(app);
      expect((await post(app, '/logout', { refresh_token: token })).status).toBe(204);
      const after = await post(app, '/refresh', { refresh_token: token });
      expect(after.status).toBe(401);
      expect((await post(app, '/logout', { refresh_token: 'unknown' })).status).toBe(204);
    });
  }

  it('redis: answers 503 (never 500, never success) while Redis is down', async () => {
    const token = await login(redisApp);
    await redis.kill();
    try {
      for (const path of ['/refresh', '/logout']) {
        const response = await post(redisApp, path, { refresh_token: token });
        expect(response.status).toBe(503);
        expect(response.headers.get('content-type')).toContain('application/problem+json');
        const body = JSON.stringify(await response.json());
        expect(body).toContain('ERR_REFRESH_STORE_UNAVAILABLE');
        expect(body).not.toMatch(/ECONNREFUSED|Connection is closed|MaxRetries/i);
      }
      const loginDown = await post(redisApp, '/login', { email: 'a@example.test', password: 'pw' });
      expect(loginDown.status).toBe(503);
    } finally {
      await redis.restart();
      if (client.status !== 'ready') await once(client, 'ready');
    }
    expect(
      (await post(redisApp, '/refresh', { refresh_token: await login(redisApp) })).status,
    ).toBe(200);
  });
});
