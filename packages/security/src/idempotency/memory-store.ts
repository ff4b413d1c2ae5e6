import { positiveInteger } from '@org/core/adapter';
import type { IdempotencyRecord, IdempotencyStore } from './store.js';

/**
 * Options of {@link MemoryIdempotencyStore}.
 *
 * @example
 * ```ts
 * new MemoryIdempotencyStore({ maxEntries: 50_000 });
 * ```
 */
export interface MemoryIdempotencyStoreOptions {
  /**
   * Records kept at most. Past it the least recently used record is dropped first, so
   * a flood of keys bounds memory instead of growing it; a dropped key runs again on a
   * retry. Size it above your idempotent requests per retention period.
   * @default 10000
   */
  maxEntries?: number;
}

interface Entry {
  readonly record: IdempotencyRecord;
  readonly expiresAt: number;
}

/**
 * Idempotency records in this process's memory: zero setup, one instance only (run
 * several instances behind a load balancer with {@link RedisIdempotencyStore}). A Map
 * in least-recently-used order: a read moves a record to the back, and the front is
 * dropped past `maxEntries`; expired records go when met, and the oldest ones as new
 * keys arrive.
 *
 * @example
 * ```ts
 * const replayable = idempotency({ store: new MemoryIdempotencyStore({ maxEntries: 50_000 }) });
 * ```
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;

  constructor(options: MemoryIdempotencyStoreOptions = {}) {
    this.#maxEntries = positiveInteger(
      'MemoryIdempotencyStore',
      'maxEntries',
      options?.maxEntries,
      10_000,
    );
  }

  /** Records held now, expired ones not yet dropped included. */
  get size(): number {
    return this.#entries.size;
  }

  claim(
    key: string,
    record: IdempotencyRecord,
    ttlMs: number,
    now: number,
  ): IdempotencyRecord | undefined {
    const entries = this.#entries;
    const found = entries.get(key);
    entries.delete(key);
    if (found !== undefined && found.expiresAt > now) {
      entries.set(key, found);
      return found.record;
    }
    this.#put(key, { record, expiresAt: now + ttlMs }, now);
    return undefined;
  }

  complete(key: string, record: IdempotencyRecord, ttlMs: number, now: number): void {
    this.#entries.delete(key);
    this.#put(key, { record, expiresAt: now + ttlMs }, now);
  }

  release(key: string, record: IdempotencyRecord): void {
    if (this.#entries.get(key)?.record.token === record.token) this.#entries.delete(key);
  }

  #put(key: string, entry: Entry, now: number): void {
    const entries = this.#entries;
    entries.set(key, entry);
    // The front is the least recently used: expired records there go first, then the
    // oldest while over the bound. Amortized O(1) per write.
    for (const [oldest, { expiresAt }] of entries) {
      if (entries.size <= this.#maxEntries && expiresAt > now) break;
      if (oldest === key) break;
      entries.delete(oldest);
    }
  }
}
