import { randomUUID } from 'node:crypto';
import {
  ConfigurationError,
  createToolkit,
  defineDependency,
  type Plugin,
  principalIdKey,
} from '@org/core';
import {
  adapters,
  type RedisServer,
  type RouteSpec,
  type RunningApp,
  startRedis,
} from '@org/test-support';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { clientIp } from '../client-ip/client-ip.js';
import { fakeContext, ManualClock } from '../internal/fake-context.js';
import { MemoryRateLimitStore } from './memory-store.js';
import { rateLimit, rateLimitPlugin } from './rate-limit.js';
import { createRateLimiter } from './rate-limiter.js';
import { RedisRateLimitStore } from './redis-store.js';
import type { RateLimitStore } from './store.js';

let redis: RedisServer;
let client: Redis;
beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

const stores: [string, () => RateLimitStore][] = [
  ['memory', () => new MemoryRateLimitStore()],
  [
    'redis',
    () => new RedisRateLimitStore({ client, prefix: `t${randomUUID()}:`, timeoutMs: 2000 }),
  ],
];

const ok: RouteSpec['handler'] = () => ({ body: { ok: true } });

describe.each(adapters)('rate limiting on $name', (fixture) => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  const start = async (routes: RouteSpec[], plugins: Plugin[] = []) => {
    app = await fixture.start(createToolkit({ plugins }), routes);
    return app.url;
  };

  it.each(stores)(
    'allows 60 a minute by default; the 61st is the first 429 (%s store)',
    async (_name, makeStore) => {
      const clock = new ManualClock();
      const limit = rateLimit({ clock, store: makeStore() });
      const url = await start([
        { method: 'GET', path: '/items', dependencies: { limit }, handler: ok },
      ]);
      for (let i = 1; i <= 60; i++) {
        const res = await fetch(`${url}/items`);
        expect(res.status).toBe(200);
        expect(res.headers.get('ratelimit-policy')).toBe('"default";q=60;w=60');
        expect(res.headers.get('ratelimit')).toBe(`"default";r=${60 - i};t=${i <= 30 ? 60 : 30}`);
        expect(res.headers.get('retry-after')).toBeNull();
        expect(res.headers.get('x-ratelimit-limit')).toBeNull();
        await res.arrayBuffer();
        if (i === 30) clock.advance(30_000);
      }
      const refused = await fetch(`${url}/items`);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(refused.headers.get('retry-after')).toBe('30');
      expect(refused.headers.get('ratelimit')).toBe('"default";r=0;t=30');
      expect(refused.headers.get('ratelimit-policy')).toBe('"default";q=60;w=60');
      expect(await refused.json()).toMatchObject({
        status: 429,
        code: 'ERR_RATE_LIMITED',
        policy: { name: 'default', quota: 60, window: 60 },
      });
      clock.advance(30_000);
      const again = await fetch(`${url}/items`);
      expect(again.status).toBe(200);
      expect(again.headers.get('ratelimit')).toBe('"default";r=59;t=60');
    },
  );

  it('sends legacy headers only when asked', async () => {
    const clock = new ManualClock();
    const limit = rateLimit({ clock, limit: 2, legacyHeaders: ['ratelimit', 'x-ratelimit'] });
    const url = await start([{ method: 'GET', path: '/x', dependencies: { limit }, handler: ok }]);
    const res = await fetch(`${url}/x`);
    expect(res.headers.get('ratelimit-limit')).toBe('2');
    expect(res.headers.get('ratelimit-remaining')).toBe('1');
    expect(res.headers.get('ratelimit-reset')).toBe('60');
    expect(res.headers.get('x-ratelimit-limit')).toBe('2');
    expect(res.headers.get('x-ratelimit-remaining')).toBe('1');
    expect(res.headers.get('x-ratelimit-reset')).toBe(String((clock.now() + 60_000) / 1000));
  });

  it.each(stores)(
    'checks a per-IP and a per-user policy on one route and names the one violated (%s store)',
    async (_name, makeStore) => {
      const clock = new ManualClock();
      const user = defineDependency({
        name: 'user',
        resolve: async (ctx) => {
          await new Promise((resolve) => setImmediate(resolve));
          const id = ctx.request.header('x-user');
          if (id !== undefined) ctx.set(principalIdKey, id);
          return id;
        },
      });
      const limit = rateLimit(
        {
          clock,
          store: makeStore(),
          policies: [
            { name: 'per-ip', limit: 5 },
            { name: 'per-user', key: 'user', limit: 3, algorithm: 'gcra' },
          ],
        },
        { after: [user] },
      );
      const url = await start([
        { method: 'GET', path: '/me', dependencies: { user, limit }, handler: ok },
      ]);
      const as = (id: string) => fetch(`${url}/me`, { headers: { 'x-user': id } });
      for (let i = 0; i < 3; i++) expect((await as('alice')).status).toBe(200);
      const alice = await as('alice');
      expect(alice.status).toBe(429);
      expect(alice.headers.get('ratelimit-policy')).toBe('"per-ip";q=5;w=60, "per-user";q=3;w=60');
      expect(alice.headers.get('ratelimit')).toBe('"per-ip";r=1;t=60, "per-user";r=0;t=60');
      expect((await alice.json()).policy.name).toBe('per-user');
      expect((await as('bob')).status).toBe(200);
      const bob = await as('bob');
      expect(bob.status).toBe(429);
      expect((await bob.json()).policy.name).toBe('per-ip');
    },
  );

  it('limits app-wide with the plugin, unknown paths included, and skips listed paths', async () => {
    const clock = new ManualClock();
    const url = await start(
      [
        { method: 'GET', path: '/a', handler: ok },
        { method: 'GET', path: '/healthz', handler: ok },
      ],
      [rateLimitPlugin({ clock, limit: 3, skip: ['/healthz', '/metrics'] })],
    );
    expect((await fetch(`${url}/a`)).status).toBe(200);
    const missing = await fetch(`${url}/missing`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('ratelimit')).toBe('"default";r=1;t=60');
    expect((await fetch(`${url}/a`)).status).toBe(200);
    expect((await fetch(`${url}/a`)).status).toBe(429);
    for (let i = 0; i < 5; i++) {
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      expect(health.headers.get('ratelimit')).toBeNull();
    }
  });

  it('combines the headers of an app-wide and a route limiter on one response', async () => {
    const clock = new ManualClock();
    const search = rateLimit({ clock, name: 'search', limit: 5, algorithm: 'sliding-window' });
    const url = await start(
      [{ method: 'GET', path: '/search', dependencies: { search }, handler: ok }],
      [rateLimitPlugin({ clock, name: 'global', limit: 100 })],
    );
    const res = await fetch(`${url}/search`);
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-policy')).toBe('"global";q=100;w=60, "search";q=5;w=60');
    expect(res.headers.get('ratelimit')).toMatch(/^"global";r=99;t=60, "search";r=4;t=\d+$/);
  });

  it('keeps one bucket per client whatever X-Forwarded-For says while trustProxy is off', async () => {
    const clock = new ManualClock();
    const logger = { warn: vi.fn() };
    const url = await start(
      [{ method: 'GET', path: '/a', handler: ok }],
      [clientIp({ logger }), rateLimitPlugin({ clock, limit: 3 })],
    );
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${url}/a`, {
        headers: {
          'x-forwarded-for': `203.0.113.${i}`,
          forwarded: `for=198.51.100.${i}`,
          'x-real-ip': `192.0.2.${i}`,
        },
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    // The peer is loopback: a likely unconfigured proxy, reported once.
    expect(logger.warn).toHaveBeenCalledTimes(1);
  });

  it('groups IPv6 clients by /64 behind a trusted proxy', async () => {
    const clock = new ManualClock();
    const url = await start(
      [{ method: 'GET', path: '/a', handler: ok }],
      [clientIp({ trustProxy: 1 }), rateLimitPlugin({ clock, limit: 2 })],
    );
    const from = (ip: string) => fetch(`${url}/a`, { headers: { 'x-forwarded-for': ip } });
    expect((await from('2001:db8:1:2::1')).status).toBe(200);
    expect((await from('2001:db8:1:2:ffff::9')).status).toBe(200);
    expect((await from('2001:db8:1:2:1234:5678:9abc:def0')).status).toBe(429);
    expect((await from('2001:db8:1:3::1')).status).toBe(200);
    expect((await from('::ffff:192.0.2.1')).status).toBe(200);
    expect((await from('192.0.2.1')).status).toBe(200);
    expect((await from('192.0.2.1')).status).toBe(429);
  });
});

describe('rate limit configuration', () => {
  it.each([
    [{ limit: 0 }, /limit/],
    [{ windowMs: -5 }, /windowMs/],
    [{ algorithm: 'leaky' as 'gcra' }, /algorithm/],
    [{ key: 'session' as 'ip' }, /key/],
    [{ cost: 100, limit: 10 }, /cost/],
    [{ name: 'has space' }, /name/],
    [{ ipv6PrefixLength: 32 }, /ipv6PrefixLength/],
    [{ policies: [{ name: 'a' }, { name: 'a' }] }, /two policies/],
    [{ policies: [{}], limit: 5 }, /either/],
    [{ algorithm: 'gcra' as const, limit: 10_000_000, windowMs: 60_000 }, /0\.01 ms/],
  ])('rejects %o at start-up', (options, message) => {
    expect(() => rateLimit(options)).toThrow(ConfigurationError);
    expect(() => rateLimit(options)).toThrow(message);
  });

  it('refuses two different policies of one name on one store, which would share counters', () => {
    const store = new MemoryRateLimitStore();
    rateLimit({ store, limit: 10 });
    rateLimit({ store, limit: 10 }); // the same quota, shared on purpose, is fine
    expect(() => rateLimit({ store, limit: 20 })).toThrow(/distinct `name`/);
    expect(() => rateLimit({ store, limit: 20, name: 'search' })).not.toThrow();
  });

  it('charges what a cost function says, and refuses a cost that is not a whole number', () => {
    const limiter = createRateLimiter({
      limit: 10,
      clock: new ManualClock(),
      cost: (ctx) => (ctx.request.method === 'POST' ? 4 : 1),
    });
    const post = () => limiter.check(fakeContext({ ip: '192.0.2.1', method: 'POST' }));
    expect(post()).toMatchObject({
      decisions: [{ policy: 'default', allowed: true, remaining: 6 }],
    });
    expect(post()).toMatchObject({ decisions: [{ remaining: 2 }] });
    expect(post).toThrow(expect.objectContaining({ status: 429 }));
    expect(limiter.check(fakeContext({ ip: '192.0.2.1' }))).toMatchObject({
      decisions: [{ remaining: 1 }],
    });
    const broken = createRateLimiter({ cost: () => 1.5 });
    expect(() => broken.check(fakeContext({ ip: '192.0.2.1' }))).toThrow(/non-negative integer/);
  });

  it('refuses user and route keys in the app-wide plugin', () => {
    expect(() => rateLimitPlugin({ key: 'user' })).toThrow(/before routing/);
    expect(() => rateLimitPlugin({ policies: [{ key: 'route' }] })).toThrow(ConfigurationError);
  });
});
