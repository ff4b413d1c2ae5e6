import { ConfigurationError } from '@org/core';
import {
  CREATE_FAMILY,
  DELETE_KEY,
  INDEX_FAMILY,
  READ_INDEX,
  REVOKE_FAMILY,
  type RedisScriptClient,
  ROTATE,
  runScript,
  UNINDEX_FAMILIES,
} from '../internal/redis-scripts.js';
import type {
  NewRefreshTokenFamily,
  RefreshTokenStore,
  RotationRequest,
  RotationResult,
} from './types.js';

/** Family ids per SREM, well under Lua's `unpack` limit. */
const UNINDEX_CHUNK = 1000;

export type { RedisScriptClient } from '../internal/redis-scripts.js';

/** Options of {@link RedisRefreshTokenStore}. */
export interface RedisRefreshTokenStoreOptions {
  /**
   * An ioredis `Redis` or `Cluster` client you create and close. Make commands fail
   * fast when Redis is down, or a refresh waits instead of answering 503:
   * `new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 1000, connectTimeout: 2000 })`.
   */
  client: RedisScriptClient;
  /** Prefix of every key, to share a Redis with other data. No `{` or `}`. @default 'auth:refresh:' */
  prefix?: string;
}

/**
 * Refresh-token families in Redis, shared by every instance of the service. One
 * key per family, `<prefix>f:{<family id>}` (the braces are a Redis Cluster hash
 * tag), rotated by one Lua script so twenty concurrent refreshes with one token
 * give exactly one success. A second key per user, `<prefix>u:{<user id>}`, lists
 * the user's families for {@link RedisRefreshTokenStore.revokeUser}. Every key has a
 * TTL: a family's is its current token's expiry, a user's is that of its newest family.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const redis = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 1, commandTimeout: 1000 });
 * const refreshTokens = createRefreshTokenManager({ store: new RedisRefreshTokenStore({ client: redis }) });
 * ```
 */
export class RedisRefreshTokenStore implements RefreshTokenStore {
  readonly #client: RedisScriptClient;
  readonly #prefix: string;

  constructor(options: RedisRefreshTokenStoreOptions) {
    if (typeof options?.client?.evalsha !== 'function') {
      throw new ConfigurationError(
        'RedisRefreshTokenStore needs options.client: an ioredis Redis or Cluster instance.',
      );
    }
    const prefix = options.prefix ?? 'auth:refresh:';
    if (prefix.includes('{') || prefix.includes('}')) {
      throw new ConfigurationError(
        `prefix must not contain '{' or '}' (they would replace the per-family Redis Cluster hash tag); received ${JSON.stringify(prefix)}.`,
      );
    }
    this.#client = options.client;
    this.#prefix = prefix;
  }

  /** The key of a family's hash. */
  familyKey(familyId: string): string {
    return `${this.#prefix}f:{${familyId}}`;
  }

  /** The key of a user's set of family ids. */
  userKey(userId: string): string {
    return `${this.#prefix}u:{${userId}}`;
  }

  async create(family: NewRefreshTokenFamily): Promise<void> {
    // Index first: a family that exists is always reachable by revokeUser.
    await runScript(
      this.#client,
      INDEX_FAMILY,
      this.userKey(family.userId),
      family.familyId,
      family.familyExpiresAt - family.now,
    );
    await runScript(
      this.#client,
      CREATE_FAMILY,
      this.familyKey(family.familyId),
      family.userId,
      family.tokenHash,
      family.expiresAt,
      family.familyExpiresAt,
      family.expiresAt - family.now,
    );
  }

  async rotate(request: RotationRequest): Promise<RotationResult> {
    const reply = (await runScript(
      this.#client,
      ROTATE,
      this.familyKey(request.familyId),
      request.tokenHash,
      request.nextTokenHash,
      request.now,
      request.tokenLifetimeMs,
    )) as [string, string?, string?, string?];
    const [status, userId = '', expiresAt, familyExpiresAt] = reply;
    switch (status) {
      case 'rotated':
        return {
          status,
          userId,
          expiresAt: Number(expiresAt),
          familyExpiresAt: Number(familyExpiresAt),
        };
      case 'reused':
      case 'expired':
        return { status, userId };
      default:
        return { status: 'invalid' };
    }
  }

  async revoke(familyId: string, tokenHash: string): Promise<boolean> {
    const deleted = await runScript(
      this.#client,
      REVOKE_FAMILY,
      this.familyKey(familyId),
      tokenHash,
    );
    return deleted === 1;
  }

  async revokeUser(userId: string): Promise<number> {
    const userKey = this.userKey(userId);
    const ids = (await runScript(this.#client, READ_INDEX, userKey)) as string[];
    // One command per family: each family key may live in another Cluster slot.
    const deleted = await Promise.all(
      ids.map((id) => runScript(this.#client, DELETE_KEY, this.familyKey(id))),
    );
    // Unindexed only once deleted, so a failure halfway leaves a retry something to find.
    for (let i = 0; i < ids.length; i += UNINDEX_CHUNK) {
      await runScript(this.#client, UNINDEX_FAMILIES, userKey, ...ids.slice(i, i + UNINDEX_CHUNK));
    }
    return deleted.reduce<number>((sum, n) => sum + Number(n), 0);
  }
}
