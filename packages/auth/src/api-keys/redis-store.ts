import { createHash } from 'node:crypto';
import { ConfigurationError } from '@org/core';
import { type RedisScriptClient, runScript, type Script } from '../internal/redis-scripts.js';
import type { ApiKeyStore, StoredApiKey } from './types.js';

/**
 * Options of {@link RedisApiKeyStore}.
 *
 * @example
 * ```ts
 * new RedisApiKeyStore({ client: redis, prefix: 'myapp:apikey:' });
 * ```
 */
export interface RedisApiKeyStoreOptions {
  /**
   * An ioredis `Redis` or `Cluster` client you create and close. Make commands fail
   * fast when Redis is down, or a request waits instead of answering 503:
   * `new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 1000 })`.
   */
  client: RedisScriptClient;
  /** Prefix of every key, to share a Redis with other data. No `{` or `}`. @default 'auth:apikey:' */
  prefix?: string;
}

function script(source: string): Script {
  return { source, sha1: createHash('sha1').update(source).digest('hex') };
}

/** KEYS[1] key hash; ARGV field, value pairs. */
const INSERT = script(`redis.call('HSET', KEYS[1], unpack(ARGV)) return 1`);
/** KEYS[1] owner index; ARGV id. */
const INDEX = script(`return redis.call('RPUSH', KEYS[1], ARGV[1])`);
/** KEYS[1] owner index. */
const READ_INDEX = script(`return redis.call('LRANGE', KEYS[1], 0, -1)`);
/** KEYS[1] key hash. */
const READ = script(`return redis.call('HGETALL', KEYS[1])`);
/** KEYS[1] key hash; ARGV time. Keeps the first revocation time. */
const REVOKE = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSETNX', KEYS[1], 'revokedAt', ARGV[1])
return 1`);
/** KEYS[1] key hash; ARGV field, time. Sets the field to the lower time (`min` 1) or higher (`max` 0). */
const BOUND = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local current = redis.call('HGET', KEYS[1], ARGV[1])
local at = tonumber(ARGV[2])
if not current or (ARGV[3] == 'min' and tonumber(current) > at) or (ARGV[3] == 'max' and tonumber(current) < at) then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
return 1`);

function fromHash(flat: unknown): StoredApiKey | undefined {
  if (!Array.isArray(flat) || flat.length === 0) return undefined;
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) f[String(flat[i])] = String(flat[i + 1]);
  const number = (name: string) => (f[name] === undefined ? {} : { [name]: Number(f[name]) });
  return {
    id: f.id as string,
    hash: f.hash as string,
    name: f.name as string,
    owner: f.owner as string,
    scopes: JSON.parse(f.scopes ?? '[]') as string[],
    ...(f.roles === undefined ? {} : { roles: JSON.parse(f.roles) as string[] }),
    createdAt: Number(f.createdAt),
    ...number('expiresAt'),
    ...number('lastUsedAt'),
    ...number('revokedAt'),
  } as StoredApiKey;
}

/**
 * API keys in Redis, shared by every instance: one hash per key,
 * `<prefix>k:{<id>}`, and one list per owner, `<prefix>o:{<owner>}` (the braces
 * are Redis Cluster hash tags, so each script touches one slot). Each change is one
 * Lua script on one key, so it is atomic; there is no cache, so a revocation is seen
 * by the next lookup on every instance. Keys carry no TTL: a record stays, revoked or
 * expired, for its owner's list.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const redis = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 1, commandTimeout: 1000 });
 * const apiKeys = createApiKeys({ store: new RedisApiKeyStore({ client: redis }) });
 * ```
 */
export class RedisApiKeyStore implements ApiKeyStore {
  readonly #client: RedisScriptClient;
  readonly #prefix: string;

  constructor(options: RedisApiKeyStoreOptions) {
    if (typeof options?.client?.evalsha !== 'function') {
      throw new ConfigurationError(
        'RedisApiKeyStore needs options.client: an ioredis Redis or Cluster instance.',
      );
    }
    const prefix = options.prefix ?? 'auth:apikey:';
    if (prefix.includes('{') || prefix.includes('}')) {
      throw new ConfigurationError(
        `RedisApiKeyStore: prefix must not contain '{' or '}' (they would replace the Redis Cluster hash tag); received ${JSON.stringify(prefix)}.`,
      );
    }
    this.#client = options.client;
    this.#prefix = prefix;
  }

  /** The Redis key of an API key's hash. */
  keyOf(id: string): string {
    return `${this.#prefix}k:{${id}}`;
  }

  /** The Redis key of an owner's list of key ids. */
  ownerKeyOf(owner: string): string {
    return `${this.#prefix}o:{${owner}}`;
  }

  async insert(key: StoredApiKey): Promise<void> {
    const fields: (string | number)[] = [
      'id',
      key.id,
      'hash',
      key.hash,
      'name',
      key.name,
      'owner',
      key.owner,
      'scopes',
      JSON.stringify(key.scopes),
      'createdAt',
      key.createdAt,
    ];
    if (key.roles !== undefined) fields.push('roles', JSON.stringify(key.roles));
    if (key.expiresAt !== undefined) fields.push('expiresAt', key.expiresAt);
    if (key.lastUsedAt !== undefined) fields.push('lastUsedAt', key.lastUsedAt);
    if (key.revokedAt !== undefined) fields.push('revokedAt', key.revokedAt);
    // Index first: a key that exists is always in its owner's list.
    await runScript(this.#client, INDEX, this.ownerKeyOf(key.owner), key.id);
    await runScript(this.#client, INSERT, this.keyOf(key.id), ...fields);
  }

  async get(id: string): Promise<StoredApiKey | undefined> {
    return fromHash(await runScript(this.#client, READ, this.keyOf(id)));
  }

  async listByOwner(owner: string): Promise<StoredApiKey[]> {
    const ids = (await runScript(this.#client, READ_INDEX, this.ownerKeyOf(owner))) as string[];
    const keys = await Promise.all(ids.map((id) => this.get(id)));
    return keys.filter((key): key is StoredApiKey => key !== undefined);
  }

  async revoke(id: string, at: number): Promise<boolean> {
    return (await runScript(this.#client, REVOKE, this.keyOf(id), at)) === 1;
  }

  async expire(id: string, at: number): Promise<boolean> {
    return (await runScript(this.#client, BOUND, this.keyOf(id), 'expiresAt', at, 'min')) === 1;
  }

  async touch(lastUsed: ReadonlyMap<string, number>): Promise<void> {
    await Promise.all(
      [...lastUsed].map(([id, at]) =>
        runScript(this.#client, BOUND, this.keyOf(id), 'lastUsedAt', at, 'max'),
      ),
    );
  }
}
