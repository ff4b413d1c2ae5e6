import { ConfigurationError } from '@org/core';
import { describe, expect, it } from 'vitest';
import { fakeContext, ManualClock } from '../internal/fake-context.js';
import { MemoryRateLimitStore } from './memory-store.js';
import { createRateLimiter } from './rate-limiter.js';
import type { PolicyLimits } from './store.js';

const policy: PolicyLimits = { name: 'p', algorithm: 'fixed-window', limit: 5, windowMs: 60_000 };

describe('MemoryRateLimitStore', () => {
  it('never holds more than maxKeys keys, dropping the least recently used', () => {
    const store = new MemoryRateLimitStore({ maxKeys: 1000 });
    for (let i = 0; i < 100_000; i++) store.hit(`client-${i}`, policy, 1, 1_000 + i);
    expect(store.size).toBe(1000);
    // The newest keys survive with their counts; the oldest were dropped.
    expect(store.hit('client-99999', policy, 0, 101_000).remaining).toBe(4);
    expect(store.hit('client-0', policy, 0, 101_000).remaining).toBe(5);
  });

  it('keeps a key that stays busy across windows while idle ones are evicted', () => {
    const store = new MemoryRateLimitStore({ maxKeys: 3 });
    let now = 0;
    store.hit('busy', policy, 1, now);
    for (let i = 0; i < 10; i++) {
      now += 60_000;
      store.hit('busy', policy, 1, now);
      store.hit(`idle-${i}`, policy, 1, now);
    }
    expect(store.size).toBe(3);
    expect(store.hit('busy', policy, 0, now).remaining).toBe(4);
  });

  it('evicts in least-recently-used order across evictions, resets, moves and clear', () => {
    const store = new MemoryRateLimitStore({ maxKeys: 3 });
    const lastHit = new Map<string, number>();
    const hit = (key: string, now: number) => {
      store.hit(key, policy, 1, now);
      lastHit.set(key, now);
    };
    // A read in the window of a key's last hit sees its count while the store keeps it.
    const kept = () =>
      [...lastHit]
        .filter(([key, at]) => store.hit(key, policy, 0, at).remaining < 5)
        .map(([key]) => key)
        .sort();
    hit('a', 0);
    hit('b', 0);
    hit('c', 0);
    hit('d', 0); // evicts a
    hit('b', 60_000); // a new window: b becomes the youngest
    hit('e', 60_000); // evicts c, not b
    expect(kept()).toEqual(['b', 'd', 'e']);
    store.reset('d', policy);
    hit('f', 60_000); // the room the reset left: nothing evicted
    hit('g', 60_000); // evicts b
    expect(kept()).toEqual(['e', 'f', 'g']);
    store.clear();
    lastHit.clear();
    for (const key of ['a', 'b', 'c', 'h']) hit(key, 120_000); // evicts a
    expect(kept()).toEqual(['b', 'c', 'h']);
  });

  it('does not store anything for a read of an unknown key', () => {
    const store = new MemoryRateLimitStore();
    for (let i = 0; i < 100; i++) store.hit(`probe-${i}`, policy, 0, 0);
    expect(store.size).toBe(0);
  });

  it('admits exactly the limit under 1,000 concurrent hits', async () => {
    const clock = new ManualClock();
    const limiter = createRateLimiter({ limit: 100, windowMs: 60_000, clock });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 1000 }, async () => limiter.check(fakeContext({ ip: '198.51.100.1' }))),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(100);
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(refused).toHaveLength(900);
    expect(refused.every((o) => (o.reason as { status: number }).status === 429)).toBe(true);
  });

  it('rejects a bad maxKeys', () => {
    expect(() => new MemoryRateLimitStore({ maxKeys: 0 })).toThrow(ConfigurationError);
  });
});
