import { Buffer } from 'node:buffer';
import { ConfigurationError } from '@org/core';
import type { IdempotencyRecord, IdempotencyStore } from './store.js';

/**
 * The part of an ioredis `Redis` or `Cluster` client this store uses (its public
 * `call`), so the package's types do not require ioredis to be installed.
 *
 * @example
 * ```ts
 * const client: RedisCommandClient = new Redis(process.env.REDIS_URL);
 * ```
 */
export interface RedisCommandClient {
  /** Sends one command and resolves to Redis's reply. */
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
}

/**
 * Options of {@link RedisIdempotencyStore}.
 *
 * @example
 * ```ts
 * new RedisIdempotencyStore({ client: new Redis(url, { commandTimeout: 500 }), prefix: 'shop:idem:' });
 * ```
 */
export interface RedisIdempotencyStoreOptions {
  /**
   * An ioredis client (`Redis` or `Cluster`) you create. Give it a `commandTimeout`, so
   * a hung Redis fails a request with 503 rather than holding it.
   */
  client: RedisCommandClient;
  /**
   * Prefix of every key, so several apps can share one Redis. Must not contain `{` or `}`.
   * @default 'idem:'
   */
  prefix?: string;
}

/** Deletes the key only while it holds the caller's claim (compare and delete, atomically). */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

const FACTORY = 'RedisIdempotencyStore';

/**
 * Idempotency records in Redis, shared by every instance of the app. A claim is ONE
 * command in ONE round trip, `SET key claim NX PX ttl GET` (Redis 7.0 or later): it
 * sets the key when free and otherwise returns what is there, atomically, so two
 * instances never both run a request. Keys are `<prefix>{<hash>}`: the whole key is the
 * Redis Cluster hash tag, which spreads records evenly; every write sets a TTL.
 *
 * @example
 * ```ts
 * const client = new Redis(process.env.REDIS_URL, { commandTimeout: 500 });
 * const store = new RedisIdempotencyStore({ client, prefix: 'users-api:idem:' });
 * ```
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  readonly #client: RedisCommandClient;
  readonly #prefix: string;

  constructor(options: RedisIdempotencyStoreOptions) {
    const client = options?.client;
    if (typeof client?.call !== 'function') {
      throw new ConfigurationError(
        `${FACTORY}: \`client\` must be an ioredis client (new Redis(url) or new Cluster(nodes)).`,
      );
    }
    const prefix = options.prefix ?? 'idem:';
    if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
      throw new ConfigurationError(
        `${FACTORY}: \`prefix\` must be a string without { or }, which would break the Redis Cluster hash tag; received ${JSON.stringify(prefix)}.`,
      );
    }
    this.#client = client;
    this.#prefix = prefix;
  }

  /** The Redis key of `key`. */
  keyOf(key: string): string {
    return `${this.#prefix}{${key}}`;
  }

  async claim(
    key: string,
    record: IdempotencyRecord,
    ttlMs: number,
  ): Promise<IdempotencyRecord | undefined> {
    const previous = await this.#client.call(
      'SET',
      this.keyOf(key),
      JSON.stringify(record),
      'NX',
      'PX',
      ttlMs,
      'GET',
    );
    return previous === null ? undefined : parseRecord(previous);
  }

  async complete(key: string, record: IdempotencyRecord, ttlMs: number): Promise<void> {
    await this.#client.call('SET', this.keyOf(key), JSON.stringify(record), 'PX', ttlMs);
  }

  async release(key: string, record: IdempotencyRecord): Promise<void> {
    await this.#client.call('EVAL', RELEASE, 1, this.keyOf(key), JSON.stringify(record));
  }
}

/** A stored record, checked: what is not one (another writer's key) is an error, never a replay. */
function parseRecord(value: unknown): IdempotencyRecord {
  const text = Buffer.isBuffer(value) ? value.toString('utf8') : value;
  const record = typeof text === 'string' ? (JSON.parse(text) as IdempotencyRecord) : undefined;
  if (typeof record?.fingerprint !== 'string' || typeof record.token !== 'string') {
    throw new TypeError(`${FACTORY}: the key holds something other than an idempotency record.`);
  }
  return record;
}
