import { randomUUID } from 'node:crypto';
import { redisTopologies } from '@org/test-support';
import { describe, expect, it } from 'vitest';
import { MemoryRateLimitStore } from './memory-store.js';
import { RedisRateLimitStore } from './redis-store.js';
import type { HitResult, PolicyLimits, RateLimitAlgorithm, RateLimitStore } from './store.js';

/** Aligned to every window used below, so clock-aligned windows start at T0. */
const T0 = Date.UTC(2030, 0, 1);

const stores: [string, () => RateLimitStore][] = [
  ['memory', () => new MemoryRateLimitStore()],
  ...redisTopologies().map((topology): [string, () => RateLimitStore] => [
    `${topology.name} Redis`,
    () =>
      new RedisRateLimitStore({
        client: topology.client,
        prefix: `a${randomUUID()}:`,
        timeoutMs: 2000,
      }),
  ]),
];

/** Plays hits at offsets from T0 and returns their results. */
async function play(
  store: RateLimitStore,
  policy: PolicyLimits,
  steps: readonly { at: number; cost?: number; times?: number }[],
): Promise<HitResult[]> {
  const key = randomUUID();
  const results: HitResult[] = [];
  for (const step of steps) {
    for (let i = 0; i < (step.times ?? 1); i++) {
      results.push(await store.hit(key, policy, step.cost ?? 1, T0 + step.at));
    }
  }
  return results;
}

const policy = (algorithm: RateLimitAlgorithm, limit: number, windowMs: number): PolicyLimits => ({
  name: `test-${algorithm}`,
  algorithm,
  limit,
  windowMs,
});

describe.each(stores)('algorithms on the %s store', (_name, makeStore) => {
  it('fixed window: 60 pass, the 61st is refused until the window closes, refusals cost nothing', async () => {
    const results = await play(makeStore(), policy('fixed-window', 60, 60_000), [
      { at: 0 },
      { at: 30_000, times: 59 },
      { at: 30_000, times: 3 },
      { at: 59_999 },
      { at: 60_000 },
    ]);
    expect(results[0]).toEqual({ allowed: true, remaining: 59, resetMs: 60_000, retryAfterMs: 0 });
    expect(results[59]).toEqual({ allowed: true, remaining: 0, resetMs: 30_000, retryAfterMs: 0 });
    expect(results[60]).toEqual({
      allowed: false,
      remaining: 0,
      resetMs: 30_000,
      retryAfterMs: 30_000,
    });
    expect(results.slice(60, 63).every((r) => !r.allowed)).toBe(true);
    expect(results[63]).toMatchObject({ allowed: false, retryAfterMs: 1 });
    expect(results[64]).toEqual({ allowed: true, remaining: 59, resetMs: 60_000, retryAfterMs: 0 });
  });

  it('fixed window: a cost spends several units; a read (cost 0) changes nothing', async () => {
    const store = makeStore();
    const p = policy('fixed-window', 10, 1000);
    const results = await play(store, p, [
      { at: 0, cost: 0 },
      { at: 5, cost: 4, times: 2 },
      { at: 6, cost: 4 },
      { at: 7, cost: 2 },
      { at: 8, cost: 0 },
    ]);
    expect(results.map((r) => [r.allowed, r.remaining])).toEqual([
      [true, 10],
      [true, 6],
      [true, 2],
      [false, 2],
      [true, 0],
      [true, 0],
    ]);
    // The window opened at the first paid hit (t=5), not at the read.
    expect(results[5]?.resetMs).toBe(997);
  });

  it('sliding window: the previous window weighs in by its overlap', async () => {
    const results = await play(makeStore(), policy('sliding-window', 10, 10_000), [
      { at: 0, times: 10 },
      { at: 0 },
      { at: 10_999 },
      { at: 11_000 },
      { at: 15_000 },
    ]);
    expect(results[9]).toEqual({ allowed: true, remaining: 0, resetMs: 20_000, retryAfterMs: 0 });
    expect(results[10]).toEqual({
      allowed: false,
      remaining: 0,
      resetMs: 20_000,
      retryAfterMs: 11_000,
    });
    expect(results[11]).toMatchObject({ allowed: false, retryAfterMs: 1 });
    expect(results[12]).toEqual({ allowed: true, remaining: 0, resetMs: 19_000, retryAfterMs: 0 });
    // 10 * 0.5 from the previous window + 2 now = 7 used.
    expect(results[13]).toEqual({ allowed: true, remaining: 3, resetMs: 15_000, retryAfterMs: 0 });
  });

  it('sliding window: retry time inside the current window', async () => {
    const results = await play(makeStore(), policy('sliding-window', 10, 10_000), [
      { at: 0, times: 8 },
      { at: 10_000, times: 2 },
      { at: 10_000 },
    ]);
    // used = 8 * 1.0 + 2 = 10; one more fits once 8 * w + 2 + 1 <= 10, w <= 7/8: 1250 ms.
    expect(results[10]).toMatchObject({ allowed: false, retryAfterMs: 1250 });
  });

  it('gcra: a full burst, then one unit back every window / limit', async () => {
    const results = await play(makeStore(), policy('gcra', 10, 10_000), [
      { at: 0 },
      { at: 0, times: 9 },
      { at: 0 },
      { at: 999 },
      { at: 1000 },
      { at: 5000, cost: 4 },
      { at: 5000 },
    ]);
    expect(results[0]).toEqual({ allowed: true, remaining: 9, resetMs: 1000, retryAfterMs: 0 });
    expect(results[9]).toEqual({ allowed: true, remaining: 0, resetMs: 10_000, retryAfterMs: 0 });
    expect(results[10]).toEqual({
      allowed: false,
      remaining: 0,
      resetMs: 10_000,
      retryAfterMs: 1000,
    });
    expect(results[11]).toMatchObject({ allowed: false, retryAfterMs: 1 });
    expect(results[12]).toEqual({ allowed: true, remaining: 0, resetMs: 10_000, retryAfterMs: 0 });
    expect(results[13]).toEqual({ allowed: true, remaining: 0, resetMs: 10_000, retryAfterMs: 0 });
    expect(results[14]).toEqual({
      allowed: false,
      remaining: 0,
      resetMs: 10_000,
      retryAfterMs: 1000,
    });
  });

  it('gcra: limits that do not divide the window never lose a unit to rounding', async () => {
    const results = await play(makeStore(), policy('gcra', 7, 60_000), [{ at: 0, times: 8 }]);
    expect(results.filter((r) => r.allowed)).toHaveLength(7);
  });

  it('reset forgets a key', async () => {
    const store = makeStore();
    const p = policy('fixed-window', 2, 60_000);
    await store.hit('k-reset', p, 2, T0);
    expect((await store.hit('k-reset', p, 1, T0)).allowed).toBe(false);
    await store.reset('k-reset', p, T0);
    expect((await store.hit('k-reset', p, 1, T0)).allowed).toBe(true);
  });
});
