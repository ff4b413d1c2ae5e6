import { positiveInteger } from '@org/core/adapter';
import type { AlgorithmState } from './algorithm.js';
import { ALGORITHMS } from './algorithms.js';
import type { HitResult, PolicyLimits, RateLimitStore } from './store.js';

/** Options of {@link MemoryRateLimitStore}. */
export interface MemoryRateLimitStoreOptions {
  /**
   * Most keys kept at once. When full, the entry used least recently is dropped
   * (usually one whose window has long closed), so memory stays bounded however
   * many distinct clients arrive.
   * @default 100000
   */
  maxKeys?: number;
}

/**
 * Counters in this process's memory: zero set-up, synchronous (no promise per
 * hit), exact under any concurrency since Node runs each hit to completion. Right
 * for one instance, and as the insurance of a Redis store; several instances need
 * {@link RedisRateLimitStore} to share counts.
 *
 * No timer per key: a `Map` in least-recently-used order, refreshed at most once per
 * window per key, and trimmed from the old end when it reaches `maxKeys`.
 *
 * @example
 * ```ts
 * const store = new MemoryRateLimitStore({ maxKeys: 50_000 });
 * rateLimit({ store, limit: 100, windowMs: 60_000 });
 * ```
 */
export class MemoryRateLimitStore implements RateLimitStore {
  /** The bound on keys. */
  readonly maxKeys: number;
  /** One map per policy name: no key concatenation (and re-hashing) per hit. */
  readonly #policies = new Map<string, Map<string, AlgorithmState>>();
  /**
   * Per policy map, an iterator kept between evictions: a fresh `keys()` would walk every
   * hole a `Map` keeps for deleted keys; a live one resumes where it stopped.
   */
  readonly #cursors = new Map<Map<string, AlgorithmState>, MapIterator<string>>();
  #size = 0;

  constructor(options: MemoryRateLimitStoreOptions = {}) {
    this.maxKeys = positiveInteger('MemoryRateLimitStore', 'maxKeys', options.maxKeys, 100_000);
  }

  /** Keys held now, over all policies (at most {@link MemoryRateLimitStore.maxKeys}). */
  get size(): number {
    return this.#size;
  }

  hit(key: string, policy: PolicyLimits, cost: number, now: number): HitResult {
    const algorithm = ALGORITHMS[policy.algorithm];
    let entries = this.#policies.get(policy.name);
    let state = entries?.get(key);
    if (state === undefined) {
      state = algorithm.create();
      // A read of an unknown key stores nothing, so probes cannot fill the map.
      if (cost === 0) return algorithm.apply(state, policy, cost, now);
      if (entries === undefined) this.#policies.set(policy.name, (entries = new Map()));
      if (this.#size >= this.maxKeys) this.#evict(entries);
      state.touchedAt = now;
      entries.set(key, state);
      this.#size++;
    } else if (now - state.touchedAt >= policy.windowMs) {
      // Move to the young end once per window: LRU order at window granularity,
      // without a delete and insert on every hit.
      state.touchedAt = now;
      (entries as Map<string, AlgorithmState>).delete(key);
      (entries as Map<string, AlgorithmState>).set(key, state);
    }
    return algorithm.apply(state, policy, cost, now);
  }

  /** Drops the least recently used key, of this policy when it has any. */
  #evict(preferred: Map<string, AlgorithmState>): void {
    let entries = preferred;
    if (entries.size === 0) {
      for (const other of this.#policies.values()) {
        if (other.size > 0) {
          entries = other;
          break;
        }
      }
    }
    let cursor = this.#cursors.get(entries);
    let oldest = cursor?.next();
    if (oldest === undefined || oldest.done === true) {
      // Exhausted iterators stay done: start over (only when the map was emptied).
      cursor = entries.keys();
      this.#cursors.set(entries, cursor);
      oldest = cursor.next();
    }
    if (oldest.done !== true) {
      entries.delete(oldest.value);
      this.#size--;
    }
  }

  refund(
    key: string,
    policy: PolicyLimits,
    cost: number,
    windowStart: number,
    _now?: number,
  ): void {
    if (policy.algorithm !== 'fixed-window') return;
    const state = this.#policies.get(policy.name)?.get(key) as
      | { start: number; count: number }
      | undefined;
    if (state === undefined || state.start !== windowStart) return;
    state.count = Math.max(0, state.count - cost);
  }

  reset(key: string, policy: PolicyLimits, _now?: number): void {
    if (this.#policies.get(policy.name)?.delete(key)) this.#size--;
  }

  /** Drops every key. */
  clear(): void {
    this.#policies.clear();
    this.#cursors.clear();
    this.#size = 0;
  }
}
