import { randomUUID } from 'node:crypto';
import { ConfigurationError } from '@org/core';
import { type RedisTopology, redisTopologies } from '@org/test-support';
import type { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { fakeContext, ManualClock } from '../internal/fake-context.js';
import { createRateLimiter } from './rate-limiter.js';
import { RedisRateLimitStore, type RedisRateLimitStoreOptions } from './redis-store.js';
import { type PolicyLimits, RateLimitStoreError } from './store.js';

const topologies = redisTopologies();

/** What replication, sentinels and cluster clients send on their own; not the store's doing. */
const UPKEEP =
  /^(hello|select|info|config\|resetstat|ping|publish|replconf|psync|sync|role|cluster\|.*|client\|.*|command\|.*|subscribe)$/;

/** Calls per command on every master since the last `CONFIG RESETSTAT`, from `INFO commandstats`. */
async function commandCalls(topology: RedisTopology): Promise<Record<string, number>> {
  const calls: Record<string, number> = {};
  for (const admin of await topology.masters()) {
    const info = await admin.info('commandstats');
    for (const match of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) {
      const [, name = '', count] = match;
      if (!UPKEEP.test(name)) calls[name] = (calls[name] ?? 0) + Number(count);
    }
  }
  return calls;
}

const policy = (algorithm: PolicyLimits['algorithm']): PolicyLimits => ({
  name: `p-${algorithm}`,
  algorithm,
  limit: 10,
  windowMs: 60_000,
});

describe.each(topologies)('RedisRateLimitStore on $name Redis', (topology) => {
  /** A store on this topology with keys of its own and a generous timeout, unless `options` says otherwise. */
  const freshStore = (options: Partial<RedisRateLimitStoreOptions> = {}) =>
    new RedisRateLimitStore({
      client: topology.client,
      prefix: `${randomUUID()}:`,
      timeoutMs: 5000,
      ...options,
    });

  it('admits exactly the limit under 1,000 concurrent hits', async () => {
    const clock = new ManualClock();
    const limiter = createRateLimiter({
      limit: 100,
      clock,
      insurance: false,
      store: freshStore(),
    });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 1000 }, () => limiter.check(fakeContext({ ip: '2001:db8::1' }))),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(100);
    const statuses = outcomes.map((o) =>
      o.status === 'rejected' ? (o.reason as { status: number }).status : 200,
    );
    expect(statuses.filter((s) => s === 429)).toHaveLength(900);
  });

  it('sends exactly one command per hit (EVAL once per connection, then EVALSHA)', async () => {
    const client = topology.client as Redis;
    const store = freshStore();
    await Promise.all((await topology.masters()).map((admin) => admin.config('RESETSTAT')));
    const send = client.sendCommand.bind(client);
    let sent = 0;
    client.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
      sent++;
      return send(...args);
    }) as Redis['sendCommand'];
    try {
      for (let i = 0; i < 50; i++) await store.hit(`k${i % 7}`, policy('gcra'), 1, 1_000_000 + i);
    } finally {
      client.sendCommand = send;
    }
    expect(sent).toBe(50);
    // Server side: 50 scripts; everything else ran inside them.
    const calls = await commandCalls(topology);
    expect((calls.evalsha ?? 0) + (calls.eval ?? 0)).toBe(50);
    expect(
      Object.keys(calls).filter((name) => !['eval', 'evalsha', 'get', 'set'].includes(name)),
    ).toEqual([]);
  });

  it('sends the hits of one event-loop turn together (one pipeline; one by one on a Cluster)', async () => {
    const client = topology.client as Redis;
    const store = freshStore();
    const pipeline = vi.spyOn(client, 'pipeline');
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.hit(`k${i % 4}`, policy('gcra'), 1, 1_000_000)),
      );
      // Five hits on each of four keys, counted exactly: 9, 8, 7, 6, 5 remaining.
      expect(results.map((r) => r.remaining).sort()).toEqual(
        [9, 8, 7, 6, 5].flatMap((n) => [n, n, n, n]).sort(),
      );
      expect(results.every((r) => r.allowed)).toBe(true);
      expect(pipeline).toHaveBeenCalledTimes(topology.name === 'cluster' ? 0 : 1);
    } finally {
      pipeline.mockRestore();
    }
  });

  it('fails only the hit whose command failed in a batch', async () => {
    const store = freshStore();
    const p = policy('gcra');
    // A list where the script expects a string: Redis answers WRONGTYPE for that key alone.
    await topology.client.lpush(store.keyOf('bad', p), 'x');
    const outcomes = await Promise.allSettled(
      ['a', 'bad', 'b'].map((key) => store.hit(key, p, 1, 1_000_000)),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({
      code: 'ERR_RATE_LIMIT_STORE',
      reason: 'command-failed',
    });
  });

  it('sends hits while a test fakes the timers', async () => {
    const store = freshStore();
    vi.useFakeTimers();
    try {
      const results = await Promise.all([1, 2].map(() => store.hit('k', policy('gcra'), 1, 1_000)));
      expect(results.map((r) => r.remaining).sort()).toEqual([8, 9]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('recovers from a flushed script cache (NOSCRIPT) without failing a hit', async () => {
    const store = freshStore();
    await store.hit('k', policy('fixed-window'), 1, 1_000);
    await Promise.all((await topology.masters()).map((admin) => admin.script('FLUSH')));
    const result = await store.hit('k', policy('fixed-window'), 1, 1_001);
    expect(result).toMatchObject({ allowed: true, remaining: 8 });
    // And inside a batch: each hit of the pipeline is resent on its own.
    await Promise.all((await topology.masters()).map((admin) => admin.script('FLUSH')));
    const batch = await Promise.all(
      [1_002, 1_003, 1_004].map((now) => store.hit('k', policy('fixed-window'), 1, now)),
    );
    expect(batch.map((r) => r.remaining).sort()).toEqual([5, 6, 7]);
  });

  it.each(['fixed-window', 'sliding-window', 'gcra'] as const)(
    '%s keys carry the prefix and a hash tag, and always a TTL',
    async (algorithm) => {
      const prefix = `ttl${randomUUID()}:`;
      const store = new RedisRateLimitStore({ client: topology.client, prefix });
      // The hit that opens a window sets the TTL, the next ones in it keep it (KEEPTTL).
      const now = Date.now();
      for (const at of [now, now + 1, now + 2]) {
        await store.hit('203.0.113.7', policy(algorithm), 1, at);
      }
      const keys = await topology.keys(`${prefix}*`);
      const code = { 'fixed-window': 'fw', 'sliding-window': 'sw', gcra: 'gcra' }[algorithm];
      expect(keys).toEqual([`${prefix}p-${algorithm}:${code}:{203.0.113.7}`]);
      const ttl = await topology.client.pttl(keys[0] as string);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(120_000);
    },
  );

  it('fails a hit after timeoutMs when Redis hangs, and opens the circuit', async () => {
    const store = freshStore({ timeoutMs: 50, breakerThreshold: 2 });
    const p = policy('fixed-window');
    await store.hit('k', p, 1, 1_000);
    const admin = await topology.masterOf(store.keyOf('k', p));
    await admin.client('PAUSE', 2000, 'WRITE');
    try {
      const started = performance.now();
      await expect(store.hit('k', p, 1, 1_000)).rejects.toMatchObject({
        code: 'ERR_RATE_LIMIT_STORE',
        reason: 'timeout',
      });
      expect(performance.now() - started).toBeLessThan(500);
      await expect(store.hit('k', p, 1, 1_000)).rejects.toMatchObject({ reason: 'timeout' });
      expect(store.circuitState(1_000)).toBe('open');
      await expect(store.hit('k', p, 1, 1_500)).rejects.toMatchObject({ reason: 'circuit-open' });
    } finally {
      await admin.client('UNPAUSE');
    }
    // After the cooldown one probe goes through and closes the circuit.
    expect(store.circuitState(3_001)).toBe('half-open');
    await expect(store.hit('k', p, 1, 3_001)).resolves.toMatchObject({ allowed: true });
    expect(store.circuitState(3_001)).toBe('closed');
  });

  it('times out every hit in flight, whenever each was sent, and answers the next ones once Redis is back', async () => {
    const store = freshStore({ timeoutMs: 50, breakerThreshold: 1_000 });
    const p = policy('fixed-window');
    await store.hit('k', p, 1, 1_000);
    const admin = await topology.masterOf(store.keyOf('k', p));
    await admin.client('PAUSE', 2000, 'WRITE');
    try {
      const started = performance.now();
      const first = await Promise.allSettled(
        Array.from({ length: 20 }, () => store.hit('k', p, 1, 1_000)),
      );
      // Sent after the queue emptied: the one timer is armed again for them.
      const later = await Promise.allSettled(
        Array.from({ length: 20 }, () => store.hit('k', p, 1, 1_000)),
      );
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(
        [...first, ...later].map((o) => (o.status === 'rejected' ? o.reason.reason : 'answered')),
      ).toEqual(Array(40).fill('timeout'));
    } finally {
      await admin.client('UNPAUSE');
    }
    // (The paused hits on 'k' ran once Redis resumed, so ask about another key.)
    await expect(store.hit('other', p, 1, 1_000)).resolves.toMatchObject({ allowed: true });
  });
});

describe('RedisRateLimitStore', () => {
  it('sends no command while the circuit is open', async () => {
    const broken = {
      calls: 0,
      defineCommand() {},
      del: () => Promise.reject(new Error('down')),
    } as unknown as Redis;
    Object.assign(broken, {
      orgRateLimitFixedWindow: () => {
        (broken as unknown as { calls: number }).calls++;
        return Promise.reject(new Error('ECONNREFUSED'));
      },
    });
    const store = new RedisRateLimitStore({
      client: broken,
      breakerThreshold: 3,
      breakerCooldownMs: 1000,
    });
    const hit = (now: number) =>
      Promise.resolve().then(() => store.hit('k', policy('fixed-window'), 1, now));
    for (let i = 0; i < 10; i++) await hit(0).catch(() => {});
    expect((broken as unknown as { calls: number }).calls).toBe(3);
    const error = await hit(10).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitStoreError);
  });

  it('rejects a missing client and a prefix that would break the hash tag', () => {
    expect(() => new RedisRateLimitStore({} as never)).toThrow(ConfigurationError);
    for (const { client } of topologies) {
      expect(() => new RedisRateLimitStore({ client, prefix: 'a{b}:' })).toThrow(/hash tag/);
      expect(() => new RedisRateLimitStore({ client, timeoutMs: 0 })).toThrow(/timeoutMs/);
    }
  });
});
