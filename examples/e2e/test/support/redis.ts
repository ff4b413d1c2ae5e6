import { randomUUID } from 'node:crypto';
import { type RedisServer, startRedis } from '@org/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, expectRateLimitHeaders } from './assertions.ts';
import { type ExampleName, lazily, type RunningExample, startExample } from './example-process.ts';
import { Api, type HttpResponse } from './http.ts';
import { until } from './limits.ts';
import type { ProcessGroup } from './suite.ts';

const PASSWORD = 'correct horse battery staple';

/** Five wrong passwords, then the right one: the sixth attempt must be a 429. */
async function bruteForce(api: Api, email: string): Promise<HttpResponse[]> {
  const answers: HttpResponse[] = [];
  for (let attempt = 1; attempt <= 5; attempt++) {
    answers.push(
      await api.post('/api/v1/auth/login', { json: { email, password: `wrong ${attempt}` } }),
    );
  }
  answers.push(await api.post('/api/v1/auth/login', { json: { email, password: PASSWORD } }));
  return answers;
}

/**
 * With `REDIS_URL`: limits, login failures and refresh tokens live in Redis; when
 * Redis dies the process stays up and answers per the documented fail policy; when
 * Redis comes back, so does everything.
 */
export function redisContract(name: ExampleName, env: () => Record<string, string>): ProcessGroup {
  let redis: RedisServer | undefined;
  const start = lazily(async () => {
    redis = await startRedis();
    return startExample(name, {
      env: { ...env(), REDIS_URL: redis.url, RATE_LIMIT_PER_MINUTE: '1000' },
      waitForReady: true,
    });
  });
  describe('with REDIS_URL on a real redis-server, through an outage (own process)', () => {
    let example: RunningExample | undefined;
    let inspect: Redis;
    let api: Api;
    beforeAll(async () => {
      example = await start();
      api = new Api(example.url);
      inspect = new Redis((redis as RedisServer).url, {
        maxRetriesPerRequest: 1,
        lazyConnect: true,
      });
      inspect.on('error', () => {});
    });
    afterAll(async () => {
      inspect?.disconnect();
      if (example === undefined) return;
      // SIGTERM drains, quits Redis and closes the database: exit 0.
      const code = await example.stop('SIGTERM');
      await redis?.stop();
      expect(code, example.output()).toBe(0);
    });

    it('keeps rate limits, login failures and refresh tokens in Redis', async () => {
      const ready = await api.get('/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({
        checks: {
          'redis:responseTime': [{ status: 'pass' }],
          'database:responseTime': [{ status: 'pass' }],
        },
      });
      const user = await api.signUp('redis');
      const refreshed = await api.post('/api/v1/auth/refresh', {
        json: { refresh_token: user.refresh_token },
      });
      expect(refreshed.status).toBe(200);
      const answers = await bruteForce(api, user.email);
      expect(answers.slice(0, 5).map((r) => r.status)).toEqual([401, 401, 401, 401, 401]);
      expectProblem(answers[5] as HttpResponse, 429, 'ERR_LOGIN_BLOCKED');
      const keys = await inspect.keys('users-api:*');
      expect(keys.some((k) => k.startsWith('users-api:refresh:'))).toBe(true);
      expect(keys.some((k) => k.startsWith('users-api:rl:per-ip:'))).toBe(true);
      expect(keys.some((k) => k.startsWith('users-api:rl:login-ip:'))).toBe(true);
      // Only hashes are stored: the refresh token itself appears nowhere in Redis.
      const secret = user.refresh_token.split('.')[1] as string;
      for (const key of keys.filter((k) => k.startsWith('users-api:refresh:f:'))) {
        expect(JSON.stringify(await inspect.hgetall(key))).not.toContain(secret);
      }
    });

    it('keeps Idempotency-Key records in Redis: a retried sign-up is replayed', async () => {
      const json = {
        email: `idem-${randomUUID()}@example.com`,
        password: 'correct horse battery staple',
      };
      const headers = { 'idempotency-key': `"${randomUUID()}"` };
      const first = await api.post('/api/v1/auth/register', { json, headers });
      expect(first.status, first.text).toBe(201);
      const retry = await api.post('/api/v1/auth/register', { json, headers });
      expect(retry.status, retry.text).toBe(201);
      expect(retry.text).toBe(first.text);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect((await inspect.keys('users-api:idem:{*}')).length).toBeGreaterThan(0);
    });

    it('in Redis too: a replay revokes the family, and 20 parallel refreshes have one winner', async () => {
      const user = await api.signUp('redis-race');
      const refresh = (token: string) =>
        api.post('/api/v1/auth/refresh', { json: { refresh_token: token } });
      const responses = await Promise.all(
        Array.from({ length: 20 }, () => refresh(user.refresh_token)),
      );
      expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
      expect(responses.filter((r) => r.status === 401)).toHaveLength(19);
      const winner = responses.find((r) => r.status === 200)?.body as { refresh_token: string };
      expectProblem(await refresh(winner.refresh_token), 401);
    });

    it('when Redis dies: the process stays up and answers per the fail policy, never 500', async () => {
      const user = await api.signUp('outage');
      await redis?.kill();
      expect((await api.get('/healthz')).status).toBe(200);
      const ready = await until(api, '/readyz', (r) => r.status === 503);
      expect(ready.status).toBe(503);
      expect(ready.headers['content-type']).toMatch(/^application\/health\+json/);
      expect(ready.body).toMatchObject({
        status: 'fail',
        checks: { 'redis:responseTime': [{ status: 'fail' }] },
      });
      expect(ready.text).not.toMatch(/127\.0\.0\.1|localhost|redis:\/\/|ECONNREFUSED/i);
      expect(ready.text).not.toContain(String(redis?.port));

      // Access tokens need no Redis: protected routes keep working, still rate limited.
      const me = await api.get('/api/v1/users/me', { token: user.access_token });
      expect(me.status).toBe(200);
      expectRateLimitHeaders(me);
      // Sessions fail closed: 503 problems, never a 500 and never a success.
      const refresh = await api.post('/api/v1/auth/refresh', {
        json: { refresh_token: user.refresh_token },
      });
      expectProblem(refresh, 503, 'ERR_REFRESH_STORE_UNAVAILABLE');
      expect(refresh.text).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|ioredis/i);
      expectProblem(
        await api.post('/api/v1/auth/login', { json: { email: user.email, password: PASSWORD } }),
        503,
        'ERR_REFRESH_STORE_UNAVAILABLE',
      );
      expectProblem(
        await api.post('/api/v1/auth/logout', { json: { refresh_token: user.refresh_token } }),
        503,
      );
      // Accounts live in SQLite: registration still works.
      const other = await api.post('/api/v1/auth/register', {
        json: { email: `later-${user.email}`, password: PASSWORD },
      });
      expect(other.status).toBe(201);
      // The login limiter falls back to this instance's memory: it does not become unlimited.
      const answers = await bruteForce(api, `later-${user.email}`);
      expect(answers.slice(0, 5).map((r) => r.status)).toEqual([401, 401, 401, 401, 401]);
      expectProblem(answers[5] as HttpResponse, 429, 'ERR_LOGIN_BLOCKED');
      expect(example?.exited).toBe(false);
    });

    it('recovers by itself when Redis restarts', async () => {
      await redis?.restart();
      const ready = await until(api, '/readyz', (r) => r.status === 200, 15_000);
      expect(ready.status, ready.text).toBe(200);
      const user = await api.signUp('recovered');
      const refreshed = await api.post('/api/v1/auth/refresh', {
        json: { refresh_token: user.refresh_token },
      });
      expect(refreshed.status, refreshed.text).toBe(200);
      const keys = await inspect.keys('users-api:refresh:*');
      expect(keys.length).toBeGreaterThan(0);
    });
  });
  return { warmUp: () => void start(), close: async () => redis?.stop() };
}
