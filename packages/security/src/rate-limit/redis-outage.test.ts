import { randomUUID } from 'node:crypto';
import { createToolkit, type RateLimitDecisionEvent, rateLimitDecisionChannel } from '@org/core';
import { adapters, type RedisServer, type RunningApp, startRedis } from '@org/test-support';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../internal/fake-context.js';
import { rateLimitPlugin } from './rate-limit.js';
import type { RateLimitOptions } from './rate-limiter.js';
import { RedisRateLimitStore } from './redis-store.js';

/**
 * Redis dies in the middle of the test: each failure policy answers as documented,
 * nothing turns into a 500, and the limiter returns to Redis once it is back.
 */

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe.each(adapters)('Redis outage on $name', (fixture) => {
  let app: RunningApp | undefined;
  let client: Redis | undefined;
  afterEach(async () => {
    await app?.close();
    client?.disconnect();
    app = undefined;
    client = undefined;
  });

  /** An app with one Redis-backed app-wide limit of 3 per minute. */
  async function start(options: Partial<RateLimitOptions>) {
    // The client options the README recommends: fail fast while disconnected.
    client = new Redis(redis.url, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      retryStrategy: () => 20,
    });
    client.on('error', () => {}); // connection errors are expected here; the limiter reports its own
    await expect.poll(() => client?.status, { timeout: 5000 }).toBe('ready');
    const prefix = `o${randomUUID()}:`;
    const clock = new ManualClock();
    const onError = vi.fn();
    const store = new RedisRateLimitStore({
      client,
      prefix,
      timeoutMs: 1000,
      breakerCooldownMs: 5000,
    });
    const toolkit = createToolkit({
      plugins: [rateLimitPlugin({ limit: 3, clock, store, ...options })],
      onError,
    });
    app = await fixture.start(toolkit, [
      { method: 'GET', path: '/a', handler: () => ({ body: { ok: true } }) },
    ]);
    const url = app.url;
    const get = async () => {
      const res = await fetch(`${url}/a`);
      return {
        status: res.status,
        limit: res.headers.get('ratelimit'),
        retry: res.headers.get('retry-after'),
        body: await res.json(),
      };
    };
    const outage = async () => {
      await redis.kill();
      await expect.poll(() => client?.status, { timeout: 5000 }).not.toBe('ready');
    };
    const recover = async () => {
      await redis.restart();
      await expect.poll(() => client?.status, { timeout: 5000 }).toBe('ready');
      clock.advance(5001); // the breaker's cooldown, so the next hit probes Redis
    };
    const storedKeys = () => (client as Redis).keys(`${prefix}*`);
    return { get, outage, recover, storedKeys, onError };
  }

  it('insurance (the default): a per-instance memory limiter takes over, then Redis again', async () => {
    const { get, outage, recover, storedKeys, onError } = await start({});
    const events: string[] = [];
    const listen = (message: unknown) => events.push((message as RateLimitDecisionEvent).decision);
    rateLimitDecisionChannel.subscribe(listen);
    try {
      expect(await get()).toMatchObject({ status: 200, limit: '"default";r=2;t=60' });
      await outage();
      const during = [await get(), await get(), await get(), await get()];
      expect(during.map((r) => r.status)).toEqual([200, 200, 200, 429]);
      expect(during[0]?.limit).toBe('"default";r=2;t=60');
      expect(during[3]?.body).toMatchObject({ code: 'ERR_RATE_LIMITED' });
      expect(events).toContain('store_error');
      // One report for the outage, not one per request.
      expect(onError).toHaveBeenCalledTimes(1);
      await recover();
      // Redis lost its data in the crash: counting starts again there.
      expect(await get()).toMatchObject({ status: 200, limit: '"default";r=2;t=60' });
      expect(await storedKeys()).toHaveLength(1);
    } finally {
      rateLimitDecisionChannel.unsubscribe(listen);
    }
  });

  it('failOpen: requests pass without RateLimit state while Redis is down', async () => {
    const { get, outage, recover } = await start({ insurance: false, failOpen: true });
    expect((await get()).status).toBe(200);
    await outage();
    for (let i = 0; i < 5; i++) expect(await get()).toMatchObject({ status: 200, limit: null });
    await recover();
    expect(await get()).toMatchObject({ status: 200, limit: '"default";r=2;t=60' });
  });

  it('fail closed: 503 with Retry-After while Redis is down, never a 500', async () => {
    const { get, outage, recover } = await start({ insurance: false, failOpen: false });
    expect((await get()).status).toBe(200);
    await outage();
    for (let i = 0; i < 4; i++) {
      expect(await get()).toMatchObject({
        status: 503,
        retry: '1',
        body: { status: 503, code: 'ERR_RATE_LIMIT_UNAVAILABLE' },
      });
    }
    await recover();
    expect((await get()).status).toBe(200);
  });

  it('a hung Redis never hangs a request: the 50 ms budget passes it to insurance', async () => {
    client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    const admin = new Redis(redis.url);
    const store = new RedisRateLimitStore({ client, prefix: `p${randomUUID()}:` });
    const toolkit = createToolkit({
      plugins: [rateLimitPlugin({ limit: 3, store })],
      onError: () => {},
    });
    app = await fixture.start(toolkit, [
      { method: 'GET', path: '/a', handler: () => ({ body: { ok: true } }) },
    ]);
    await admin.client('PAUSE', 3000, 'WRITE');
    try {
      const started = performance.now();
      const res = await fetch(`${app.url}/a`);
      expect(res.status).toBe(200);
      expect(performance.now() - started).toBeLessThan(1500);
    } finally {
      await admin.client('UNPAUSE');
      admin.disconnect();
    }
  });
});
