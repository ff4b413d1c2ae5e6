import { createHash } from 'node:crypto';

/**
 * The Lua scripts of the Redis refresh-token store. Each touches exactly one key,
 * so each is atomic and runs on Redis Cluster. A family is one hash:
 * `u` user id, `cur` current token hash, `exp` its expiry, `abs` the family's end,
 * and one `s:<hash>` field per spent token. Times come from the caller's clock
 * (ARGV), never from Redis's, and every write sets a TTL.
 */

/** The subset of an ioredis `Redis` or `Cluster` client the store uses. */
export interface RedisScriptClient {
  /**
   * `EVALSHA`: runs a script the server has cached, by its SHA-1, with `numkeys` keys
   * first in `args`. Rejects with a `NOSCRIPT` error when the server does not have it.
   */
  evalsha(sha1: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  /** `EVAL`: runs a script from its source (and caches it on the server), with `numkeys` keys first in `args`. */
  eval(script: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  /**
   * ioredis `pipeline()`: commands sent together on one connection (on a `Cluster`, the
   * connection to the master of the keys' slot). Needed only with `waitForReplicas`.
   */
  pipeline?(): RedisPipelineLike;
}

/**
 * The subset of an ioredis pipeline the stores use (`client.pipeline()`).
 *
 * @example
 * ```ts
 * const replies = await client.pipeline().evalsha(sha1, 1, key).wait(1, 50).exec();
 * ```
 */
export interface RedisPipelineLike {
  /** Queues `EVALSHA`. */
  evalsha(sha1: string, numkeys: number, ...args: (string | number)[]): unknown;
  /** Queues `EVAL`. */
  eval(script: string, numkeys: number, ...args: (string | number)[]): unknown;
  /** Queues `WAIT numreplicas timeout`. */
  wait(numreplicas: number, timeout: number): unknown;
  /** Sends the queued commands and resolves `[error, reply]` for each. */
  exec(): Promise<[Error | null, unknown][] | null>;
}

/** A write that must reach replicas before it counts (`WAIT`). */
export interface ReplicaWait {
  /** Replicas that must acknowledge the write. */
  readonly replicas: number;
  /** Milliseconds `WAIT` may block. */
  readonly timeoutMs: number;
  /** Whether fewer acknowledgements fail the write (true) or are accepted (false). */
  readonly refuse: boolean;
}

/** Fewer replicas than asked acknowledged a write within the `WAIT` timeout. */
export class ReplicaWaitError extends Error {
  /** Stable code. */
  static readonly code = 'ERR_REDIS_NOT_REPLICATED';
  /** Stable code. */
  readonly code = ReplicaWaitError.code;
  /** Replicas that acknowledged. */
  readonly acknowledged: number;
  constructor(acknowledged: number, wait: ReplicaWait) {
    super(
      `${acknowledged} of ${wait.replicas} replicas acknowledged the write within ${wait.timeoutMs} ms.`,
    );
    this.name = 'ReplicaWaitError';
    this.acknowledged = acknowledged;
  }
}

/** Throws {@link ReplicaWaitError} when `wait` refuses writes fewer than `wait.replicas` acknowledged. */
export function requireAcknowledged(wait: ReplicaWait, acknowledged: number): void {
  if (wait.refuse && acknowledged < wait.replicas) throw new ReplicaWaitError(acknowledged, wait);
}

/** A script with its SHA-1, computed once. */
export interface Script {
  readonly source: string;
  readonly sha1: string;
}

function script(source: string): Script {
  return { source, sha1: createHash('sha1').update(source).digest('hex') };
}

/** KEYS[1] family; ARGV user, hash, expiresAt, familyExpiresAt, ttlMs. */
export const CREATE_FAMILY = script(`
redis.call('HSET', KEYS[1], 'u', ARGV[1], 'cur', ARGV[2], 'exp', ARGV[3], 'abs', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`);

/** KEYS[1] user index; ARGV family id, ttlMs. The index lives as long as its newest family. */
export const INDEX_FAMILY = script(`
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`);

/**
 * KEYS[1] family; ARGV presented hash, next hash, now, token lifetime ms.
 * Returns {'rotated', user, expiresAt, familyExpiresAt} | {'reused', user} |
 * {'expired', user} | {'invalid'}.
 */
export const ROTATE = script(`
local f = redis.call('HMGET', KEYS[1], 'u', 'cur', 'exp', 'abs')
if not f[1] then return {'invalid'} end
if f[2] ~= ARGV[1] then
  if redis.call('HEXISTS', KEYS[1], 's:' .. ARGV[1]) == 1 then
    redis.call('DEL', KEYS[1])
    return {'reused', f[1]}
  end
  return {'invalid'}
end
local now = tonumber(ARGV[3])
local abs = tonumber(f[4])
if now >= tonumber(f[3]) or now >= abs then
  redis.call('DEL', KEYS[1])
  return {'expired', f[1]}
end
local exp = math.min(now + tonumber(ARGV[4]), abs)
redis.call('HSET', KEYS[1], 'cur', ARGV[2], 'exp', string.format('%.0f', exp), 's:' .. ARGV[1], '1')
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', exp - now))
return {'rotated', f[1], string.format('%.0f', exp), f[4]}`);

/** KEYS[1] family; ARGV hash. Deletes the family when the hash is its current or a spent token. */
export const REVOKE_FAMILY = script(`
local cur = redis.call('HGET', KEYS[1], 'cur')
if not cur then return 0 end
if cur == ARGV[1] or redis.call('HEXISTS', KEYS[1], 's:' .. ARGV[1]) == 1 then
  return redis.call('DEL', KEYS[1])
end
return 0`);

/** KEYS[1] user index. Returns its family ids. */
export const READ_INDEX = script(`return redis.call('SMEMBERS', KEYS[1])`);

/** KEYS[1] user index; ARGV family ids to remove from it. */
export const UNINDEX_FAMILIES = script(`return redis.call('SREM', KEYS[1], unpack(ARGV))`);

/** KEYS[1] any key. Deletes it. */
export const DELETE_KEY = script(`return redis.call('DEL', KEYS[1])`);

/**
 * Runs a script by SHA-1, loading it with EVAL when the server does not have it
 * (first use, restart, failover).
 */
export async function runScript(
  client: RedisScriptClient,
  { source, sha1 }: Script,
  key: string,
  ...args: (string | number)[]
): Promise<unknown> {
  try {
    return await client.evalsha(sha1, 1, key, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return client.eval(source, 1, key, ...args);
  }
}

const isNoScript = (error: unknown): boolean =>
  error instanceof Error && error.message.startsWith('NOSCRIPT');

async function scriptThenWait(
  client: RedisScriptClient,
  script: Script,
  wait: ReplicaWait,
  loaded: boolean,
  args: readonly (string | number)[],
): Promise<[Error | null, unknown][]> {
  const pipeline = (client.pipeline as () => RedisPipelineLike).call(client);
  if (loaded) pipeline.evalsha(script.sha1, 1, ...args);
  else pipeline.eval(script.source, 1, ...args);
  pipeline.wait(wait.replicas, wait.timeoutMs);
  const replies = await pipeline.exec();
  if (replies?.length !== 2) throw new Error('Redis answered a pipeline of two commands wrongly.');
  return replies;
}

/**
 * Runs a script, then `WAIT`s on the same connection for `wait.replicas` replicas to
 * acknowledge it: both in one pipeline, so the `WAIT` can never land on another
 * connection (after a reconnect) and count acknowledgements of nothing. Resolves the
 * script's reply and how many replicas acknowledged; the caller decides, with
 * {@link requireAcknowledged}, whether its write needed them.
 */
export async function runScriptReplicated(
  client: RedisScriptClient,
  script: Script,
  wait: ReplicaWait,
  key: string,
  ...args: (string | number)[]
): Promise<{ reply: unknown; acknowledged: number }> {
  let replies = await scriptThenWait(client, script, wait, true, [key, ...args]);
  if (isNoScript(replies[0]?.[0])) {
    replies = await scriptThenWait(client, script, wait, false, [key, ...args]);
  }
  const [[scriptError, reply], [waitError, acknowledged]] = replies as [
    [Error | null, unknown],
    [Error | null, unknown],
  ];
  if (scriptError) throw scriptError;
  if (waitError) throw waitError;
  return { reply, acknowledged: Number(acknowledged) };
}
