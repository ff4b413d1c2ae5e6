import { ConfigurationError } from '@org/core';
import { positiveInteger } from '@org/core/adapter';
import {
  CREATE_FAMILY,
  DELETE_KEY,
  INDEX_FAMILY,
  READ_INDEX,
  REVOKE_FAMILY,
  type RedisScriptClient,
  type ReplicaWait,
  ROTATE,
  requireAcknowledged,
  runScript,
  runScriptReplicated,
  type Script,
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

export type { RedisPipelineLike, RedisScriptClient } from '../internal/redis-scripts.js';

const STORE = 'RedisRefreshTokenStore';

/**
 * Options of {@link RedisRefreshTokenStoreOptions.waitForReplicas}.
 *
 * @example
 * ```ts
 * new RedisRefreshTokenStore({ client, waitForReplicas: { replicas: 1, timeoutMs: 50 } });
 * ```
 */
export interface WaitForReplicasOptions {
  /** Replicas of the key's master that must acknowledge each rotation and revocation. @default 1 */
  replicas?: number;
  /**
   * Milliseconds `WAIT` may block. It holds up the commands queued behind it on the
   * same connection, so keep it small; keep the client's `commandTimeout` above it.
   * @default 50
   */
  timeoutMs?: number;
  /**
   * What a rotation or revocation does when fewer replicas acknowledged in time:
   * `'refuse'` fails it (the manager answers 503 `ERR_REFRESH_STORE_UNAVAILABLE`),
   * `'accept'` lets it stand as if no `WAIT` had been asked for.
   * @default 'refuse'
   */
  onTimeout?: 'refuse' | 'accept';
}

/** Options of {@link RedisRefreshTokenStore}. */
export interface RedisRefreshTokenStoreOptions {
  /**
   * An ioredis `Redis` or `Cluster` client you create and close. Make commands fail
   * fast when Redis is down, or a refresh waits instead of answering 503, and never
   * send a failed command again after a reconnect, or a rotation answered 503 may run
   * later and turn the client's next refresh into a reuse:
   * `new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 1000, connectTimeout: 2000, autoResendUnfulfilledCommands: false })`.
   */
  client: RedisScriptClient;
  /** Prefix of every key, to share a Redis with other data. No `{` or `}`. @default 'auth:refresh:' */
  prefix?: string;
  /**
   * Makes reuse detection survive a failover: each rotation and revocation is followed,
   * on the same connection (on a Cluster, the one to the family key's master), by
   * `WAIT replicas timeoutMs`, so a spent token that the client was told about is on a
   * replica before the answer leaves. Without it Redis replicates asynchronously and a
   * master that dies right after a rotation may take the spent marker with it: the
   * promoted replica would then accept the old token once more. Only a rotation that
   * hands out a new token and a revocation that removed a family need the
   * acknowledgement; refusals (reuse, expiry) are answered as they are.
   *
   * Only for deployments with replicas (Sentinel, Cluster, a replicated primary): on a
   * lone server every rotation would wait `timeoutMs` and, by default, be refused.
   * See the README for what a client sees when a rotation is refused.
   * @default undefined (no WAIT)
   */
  waitForReplicas?: WaitForReplicasOptions;
}

/**
 * Refresh-token families in Redis, shared by every instance of the service. One
 * key per family, `<prefix>f:{<family id>}` (the braces are a Redis Cluster hash
 * tag), rotated by one Lua script so twenty concurrent refreshes with one token
 * give exactly one success. A second key per user, `<prefix>u:{<user id>}`, lists
 * the user's families for {@link RedisRefreshTokenStore.revokeUser}. Every key has a
 * TTL: a family's is its current token's expiry, a user's is that of its newest family.
 * Every command touches one key, so none can fail with `CROSSSLOT` on a Cluster.
 *
 * With replicas, set `waitForReplicas` so a failover cannot forget a spent token.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const redis = new Redis(process.env.REDIS_URL, {
 *   maxRetriesPerRequest: 1,
 *   commandTimeout: 1000,
 *   autoResendUnfulfilledCommands: false,
 * });
 * const refreshTokens = createRefreshTokenManager({ store: new RedisRefreshTokenStore({ client: redis }) });
 *
 * // Sentinel or Cluster: a rotation is answered once a replica has it.
 * const durable = new RedisRefreshTokenStore({ client: cluster, waitForReplicas: { replicas: 1, timeoutMs: 50 } });
 * ```
 */
export class RedisRefreshTokenStore implements RefreshTokenStore {
  readonly #client: RedisScriptClient;
  readonly #prefix: string;
  /**
   * Runs a rotation or revocation, whose outcome the caller's security depends on;
   * `durable(reply)` says whether this outcome needs the replicas' acknowledgement.
   */
  readonly #write: (
    durable: (reply: unknown) => boolean,
    script: Script,
    key: string,
    ...args: (string | number)[]
  ) => Promise<unknown>;

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
    const wait = replicaWait(options.waitForReplicas, options.client);
    this.#write =
      wait === undefined
        ? (_durable, script, key, ...args) => runScript(this.#client, script, key, ...args)
        : async (durable, script, key, ...args) => {
            const { reply, acknowledged } = await runScriptReplicated(
              this.#client,
              script,
              wait,
              key,
              ...args,
            );
            // Only a new token or a revocation must outlive the master; a refusal
            // (reuse, expiry) stays a refusal whatever a failover forgets.
            if (durable(reply)) requireAcknowledged(wait, acknowledged);
            return reply;
          };
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
    const reply = (await this.#write(
      rotated,
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
    const deleted = await this.#write(removed, REVOKE_FAMILY, this.familyKey(familyId), tokenHash);
    return deleted === 1;
  }

  async revokeUser(userId: string): Promise<number> {
    const userKey = this.userKey(userId);
    const ids = (await runScript(this.#client, READ_INDEX, userKey)) as string[];
    // One command per family: each family key may live in another Cluster slot.
    const deleted = await Promise.all(
      ids.map((id) => this.#write(removed, DELETE_KEY, this.familyKey(id))),
    );
    // Unindexed only once deleted, so a failure halfway leaves a retry something to find.
    for (let i = 0; i < ids.length; i += UNINDEX_CHUNK) {
      await runScript(this.#client, UNINDEX_FAMILIES, userKey, ...ids.slice(i, i + UNINDEX_CHUNK));
    }
    return deleted.reduce<number>((sum, n) => sum + Number(n), 0);
  }
}

const rotated = (reply: unknown): boolean => Array.isArray(reply) && reply[0] === 'rotated';
const removed = (reply: unknown): boolean => reply === 1;

/** Validates `waitForReplicas` once, at construction. */
function replicaWait(
  options: WaitForReplicasOptions | undefined,
  client: RedisScriptClient,
): ReplicaWait | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError(
      `${STORE}: \`waitForReplicas\` must be an object such as { replicas: 1, timeoutMs: 50 }; received ${JSON.stringify(options)}.`,
    );
  }
  if (typeof client.pipeline !== 'function') {
    throw new ConfigurationError(
      `${STORE}: \`waitForReplicas\` needs a client with pipeline() (an ioredis Redis or Cluster).`,
    );
  }
  const onTimeout = options.onTimeout ?? 'refuse';
  if (onTimeout !== 'refuse' && onTimeout !== 'accept') {
    throw new ConfigurationError(
      `${STORE}: \`waitForReplicas.onTimeout\` must be 'refuse' or 'accept'; received ${JSON.stringify(onTimeout)}.`,
    );
  }
  const timeoutMs = positiveInteger(STORE, 'waitForReplicas.timeoutMs', options.timeoutMs, 50);
  const commandTimeout = commandTimeoutOf(client);
  if (commandTimeout !== undefined && commandTimeout <= timeoutMs) {
    // The client would abort the WAIT before it answers: every unacknowledged write a 503.
    throw new ConfigurationError(
      `${STORE}: \`waitForReplicas.timeoutMs\` (${timeoutMs}) must be below the client's commandTimeout (${commandTimeout}); lower timeoutMs or raise commandTimeout.`,
    );
  }
  return {
    replicas: positiveInteger(STORE, 'waitForReplicas.replicas', options.replicas, 1),
    timeoutMs,
    refuse: onTimeout === 'refuse',
  };
}

/** ioredis' `commandTimeout` (a `Redis`'s `options`, a `Cluster`'s `options.redisOptions`), if set. */
function commandTimeoutOf(client: RedisScriptClient): number | undefined {
  const { options } = client as {
    options?: { commandTimeout?: unknown; redisOptions?: { commandTimeout?: unknown } };
  };
  const timeout = options?.commandTimeout ?? options?.redisOptions?.commandTimeout;
  return typeof timeout === 'number' && timeout > 0 ? timeout : undefined;
}
