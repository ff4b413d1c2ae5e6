/**
 * `redis-server` (or `redis-cli`) is not installed. The message says how to install it.
 *
 * @example
 * ```ts
 * const redis = await startRedis().catch((error) => {
 *   if (error instanceof RedisNotInstalledError) console.error(error.message);
 *   throw error;
 * });
 * ```
 */
export class RedisNotInstalledError extends Error {
  /** Stable code. */
  static readonly code = 'ERR_REDIS_NOT_INSTALLED';
  /** Stable code. */
  readonly code = RedisNotInstalledError.code;
  constructor(binary: string) {
    super(
      `${binary} was not found on PATH. Install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) and run the tests again.`,
    );
    this.name = 'RedisNotInstalledError';
  }
}

/**
 * Why a Redis test server or topology could not do what was asked: the `reason` of
 * {@link RedisHarnessError}.
 *
 * @example
 * ```ts
 * const retryable: RedisHarnessFailure[] = ['start-failed', 'not-ready'];
 * ```
 */
export type RedisHarnessFailure =
  /** A `redis-server` process exited or did not log that it was ready in time. */
  | 'start-failed'
  /** `redis-cli --cluster create` failed. */
  | 'cluster-create-failed'
  /** The nodes did not reach the awaited state (`cluster_state:ok`, replicas in sync, sentinels agreeing) in time. */
  | 'not-ready'
  /** No replica was promoted in time after a master was killed. */
  | 'failover-timeout'
  /** The asked-for master does not exist (an index out of range, no master left alive). */
  | 'no-such-master';

/**
 * A Redis test server, Cluster or Sentinel set-up failed to start, to settle or to
 * fail over. Switch on `reason`, never on the message; the message carries the
 * servers' own output when there is any.
 *
 * @example
 * ```ts
 * try {
 *   await startRedisCluster();
 * } catch (error) {
 *   if (error instanceof RedisHarnessError && error.reason === 'not-ready') console.error(error.message);
 *   throw error;
 * }
 * ```
 */
export class RedisHarnessError extends Error {
  /** Stable code. */
  static readonly code = 'ERR_REDIS_HARNESS';
  /** Stable code. */
  readonly code = RedisHarnessError.code;
  /** What failed. */
  readonly reason: RedisHarnessFailure;
  constructor(reason: RedisHarnessFailure, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'RedisHarnessError';
    this.reason = reason;
  }
}
