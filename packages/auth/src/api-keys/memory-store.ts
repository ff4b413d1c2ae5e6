import { ServiceUnavailableError } from '@org/core';
import { positiveInteger } from '@org/core/adapter';
import type { ApiKeyStore, StoredApiKey } from './types.js';

/**
 * Options of {@link MemoryApiKeyStore}.
 *
 * @example
 * ```ts
 * new MemoryApiKeyStore({ maxKeys: 1000 });
 * ```
 */
export interface MemoryApiKeyStoreOptions {
  /**
   * Most keys kept at once. When full, revoked and expired keys are dropped; if none
   * is, `insert` fails with a 503 `ERR_API_KEY_STORE_FULL`. A live key is never evicted:
   * a credential that vanishes would lock its user out without a word.
   * @default 10000
   */
  maxKeys?: number;
}

/**
 * API keys in this process's memory: for tests and a single instance; every key is
 * lost on restart. Bounded by `maxKeys`. Run several instances? Use
 * {@link SqliteApiKeyStore} on a shared database or {@link RedisApiKeyStore}.
 *
 * @example
 * ```ts
 * const apiKeys = createApiKeys({ store: new MemoryApiKeyStore({ maxKeys: 1000 }) });
 * ```
 */
export class MemoryApiKeyStore implements ApiKeyStore {
  readonly #maxKeys: number;
  readonly #keys = new Map<string, StoredApiKey>();
  readonly #byOwner = new Map<string, Set<string>>();

  constructor(options: MemoryApiKeyStoreOptions = {}) {
    this.#maxKeys = positiveInteger('MemoryApiKeyStore', 'maxKeys', options.maxKeys, 10_000);
  }

  /** How many keys the store holds. */
  get size(): number {
    return this.#keys.size;
  }

  async insert(key: StoredApiKey): Promise<void> {
    if (this.#keys.size >= this.#maxKeys) this.#dropDead(key.createdAt);
    if (this.#keys.size >= this.#maxKeys) {
      throw new ServiceUnavailableError({
        code: 'ERR_API_KEY_STORE_FULL',
        detail: 'No more API keys can be created right now.',
      });
    }
    this.#keys.set(key.id, key);
    let ids = this.#byOwner.get(key.owner);
    if (ids === undefined) this.#byOwner.set(key.owner, (ids = new Set()));
    ids.add(key.id);
  }

  async get(id: string): Promise<StoredApiKey | undefined> {
    return this.#keys.get(id);
  }

  async listByOwner(owner: string): Promise<StoredApiKey[]> {
    const ids = this.#byOwner.get(owner) ?? [];
    return [...ids].map((id) => this.#keys.get(id) as StoredApiKey);
  }

  async revoke(id: string, at: number): Promise<boolean> {
    const key = this.#keys.get(id);
    if (key === undefined) return false;
    if (key.revokedAt === undefined) this.#keys.set(id, { ...key, revokedAt: at });
    return true;
  }

  async expire(id: string, at: number): Promise<boolean> {
    const key = this.#keys.get(id);
    if (key === undefined) return false;
    if (key.expiresAt === undefined || key.expiresAt > at)
      this.#keys.set(id, { ...key, expiresAt: at });
    return true;
  }

  async touch(lastUsed: ReadonlyMap<string, number>): Promise<void> {
    for (const [id, at] of lastUsed) {
      const key = this.#keys.get(id);
      if (key !== undefined && (key.lastUsedAt ?? -1) < at)
        this.#keys.set(id, { ...key, lastUsedAt: at });
    }
  }

  /** Removes revoked and expired keys: only when full, so O(n) is paid once per eviction round. */
  #dropDead(now: number): void {
    for (const [id, key] of this.#keys) {
      if (key.revokedAt !== undefined || (key.expiresAt !== undefined && key.expiresAt <= now)) {
        this.#keys.delete(id);
        const ids = this.#byOwner.get(key.owner);
        ids?.delete(id);
        if (ids?.size === 0) this.#byOwner.delete(key.owner);
      }
    }
  }
}
