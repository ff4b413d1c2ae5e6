import { describe, expect, it } from 'vitest';
import { MemoryIdempotencyStore } from './memory-store.js';
import type { IdempotencyRecord } from './store.js';

const claimOf = (token: string): IdempotencyRecord => ({ fingerprint: 'f', token });
const done = (token: string): IdempotencyRecord => ({
  fingerprint: 'f',
  token,
  response: { status: 201, headers: {}, text: 'ok' },
});

describe('MemoryIdempotencyStore', () => {
  it('claims a free key once; the record there answers later claims until it expires', () => {
    const store = new MemoryIdempotencyStore();
    expect(store.claim('k', claimOf('t1'), 1000, 0)).toBeUndefined();
    expect(store.claim('k', claimOf('t2'), 1000, 999)).toEqual(claimOf('t1'));
    store.complete('k', done('t1'), 5000, 999);
    expect(store.claim('k', claimOf('t3'), 1000, 5998)).toEqual(done('t1'));
    expect(store.claim('k', claimOf('t4'), 1000, 5999)).toBeUndefined();
  });

  it('releases only the claim of the same token', () => {
    const store = new MemoryIdempotencyStore();
    store.claim('k', claimOf('mine'), 1000, 0);
    store.release('k', claimOf('someone else'));
    expect(store.size).toBe(1);
    store.release('k', claimOf('mine'));
    expect(store.size).toBe(0);
  });

  it('holds at most maxEntries under a flood of keys, dropping the least recently used', () => {
    const store = new MemoryIdempotencyStore({ maxEntries: 100 });
    store.claim('kept', claimOf('t'), 60_000, 0);
    for (let i = 0; i < 10_000; i++) {
      store.claim(`k${i}`, claimOf(`t${i}`), 60_000, i);
      // A read moves "kept" to the back: it survives the flood.
      if (i % 50 === 0) expect(store.claim('kept', claimOf('x'), 60_000, i)).toEqual(claimOf('t'));
      expect(store.size).toBeLessThanOrEqual(100);
    }
    expect(store.claim('k0', claimOf('again'), 60_000, 10_000)).toBeUndefined();
  });

  it('drops expired records at the front as new keys arrive', () => {
    const store = new MemoryIdempotencyStore();
    for (let i = 0; i < 10; i++) store.claim(`old${i}`, claimOf('t'), 100, 0);
    store.claim('new', claimOf('t'), 100, 100);
    expect(store.size).toBe(1);
  });
});
