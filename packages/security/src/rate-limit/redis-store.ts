import { setImmediate } from 'node:timers';
import { ConfigurationError } from '@org/core';
import { positiveInteger } from '@org/core/adapter';
import { ALGORITHMS } from './algorithms.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { FIXED_WINDOW_LEASE_LUA, FIXED_WINDOW_RELEASE_LUA } from './fixed-window.js';
import {
  type HitResult,
  type PolicyLimits,
  type RateLimitAlgorithm,
  type RateLimitStore,
  RateLimitStoreError,
} from './store.js';

/**
 * The part of an ioredis `Redis` or `Cluster` client this store uses, so the
 * package's types do not require ioredis to be installed.
 */
export interface RedisClientLike {
  /** ioredis custom commands: EVALSHA with a NOSCRIPT fallback to EVAL. */
  defineCommand(name: string, definition: { lua: string; numberOfKeys?: number }): void;
  /** Deletes keys. */
  del(key: string): Promise<number>;
  /**
   * ioredis `pipeline()`: when present (and not on a Cluster), the hits of one event-loop
   * turn are queued on one pipeline (its script commands), then sent by its `exec`.
   */
  pipeline?(): {
    /** Sends the queued commands in one write; one `[error, reply]` per command, in order. */
    exec(): Promise<[error: Error | null, reply: unknown][] | null>;
  };
  /** True on an ioredis `Cluster`, whose pipelines must stay on one node: hits are sent one by one. */
  readonly isCluster?: boolean;
}

/** Options of {@link RedisRateLimitStore}. */
export interface RedisRateLimitStoreOptions {
  /** An ioredis client (`Redis` or `Cluster`) you create; see the README for recommended options. */
  client: RedisClientLike;
  /**
   * Prefix of every key, so several apps can share one Redis. Must not contain `{` or `}`.
   * @default 'rl:'
   */
  prefix?: string;
  /**
   * Milliseconds a hit may take before it counts as failed; a hung Redis never hangs a request.
   * @default 50
   */
  timeoutMs?: number;
  /**
   * Failures in a row that open the circuit: hits then fail at once, without touching Redis.
   * @default 3
   */
  breakerThreshold?: number;
  /**
   * Milliseconds the circuit stays open before one probe tests Redis again.
   * @default 2000
   */
  breakerCooldownMs?: number;
  /**
   * Quota leasing for `fixed-window` policies, for limits too hot for a round trip per
   * hit: each instance takes a slice of a key's quota from Redis in one round trip
   * (counted there as used at once) and spends it from memory, without awaiting, until
   * the slice is spent or the window ends. Instances never admit more than the limit
   * between them; the price is the other way: near the limit, up to one slice per other
   * instance may sit unspent while this one refuses, and an instance that dies takes its
   * unspent slice with it for that window. `releaseLeases()` gives unspent units back.
   * Other algorithms stay exact. Keep it off (the exact mode, one round trip per hit)
   * for small limits, such as logins per account.
   * @default false
   */
  lease?: boolean | LeaseOptions;
}

/** Options of the leasing mode ({@link RedisRateLimitStoreOptions.lease}). */
export interface LeaseOptions {
  /** Share of a policy's limit one lease takes (at least one unit). @default 0.02 */
  share?: number;
  /** Keys whose leases are kept in memory; past it the oldest is dropped, its unspent units lost for its window. @default 10000 */
  maxKeys?: number;
}

/** The units this instance holds for one key's current window. */
interface Lease {
  /** The window's start, as Redis keeps it. */
  start: number;
  /** When the window ends (`start + windowMs`). */
  end: number;
  /** Units leased and not spent yet. */
  units: number;
  /** What Redis had left after the last lease. */
  remaining: number;
  /** Redis had nothing left for this window: refuse locally until it ends. */
  spent: boolean;
  /** A lease in flight, which hits on the key wait for. */
  pending: Promise<void> | undefined;
}

type LeaseCommand = (
  key: string,
  limit: number,
  windowMs: number,
  want: number,
  now: number,
) => Promise<readonly [number, number, number]>;
type ReleaseCommand = (key: string, units: number, start: number) => Promise<number>;

type ScriptCommand = (
  key: string,
  limit: number,
  windowMs: number,
  cost: number,
  now: number,
) => Promise<ScriptReply>;

/** An exact-mode hit: its script command and arguments, and its answer once it is queued (`#flush`). */
interface QueuedHit {
  readonly command: string;
  readonly key: string;
  readonly limit: number;
  readonly windowMs: number;
  readonly cost: number;
  readonly now: number;
  resolve(reply: ScriptReply): void;
  reject(error: unknown): void;
}

const COMMANDS: Readonly<Record<RateLimitAlgorithm, string>> = {
  'fixed-window': 'orgRateLimitFixedWindow',
  'sliding-window': 'orgRateLimitSlidingWindow',
  gcra: 'orgRateLimitGcra',
};

/** In keys, so a policy whose algorithm changes between deploys starts afresh instead of misreading the old state. */
const KEY_CODES: Readonly<Record<RateLimitAlgorithm, string>> = {
  'fixed-window': 'fw',
  'sliding-window': 'sw',
  gcra: 'gcra',
};

const FACTORY = 'RedisRateLimitStore';
const LEASE_COMMAND = 'orgRateLimitLease';
const RELEASE_COMMAND = 'orgRateLimitRelease';

/**
 * Counters in Redis, shared by every instance of the app. Each hit is ONE atomic Lua
 * script (ioredis sends EVAL once per connection, then EVALSHA, and falls back on
 * NOSCRIPT), so concurrent hits on any instance never over-admit. On a single Redis the
 * hits made in one event-loop turn go out together at its end, as one pipeline: one
 * write and one read for the lot instead of one each, which under load is most of a
 * hit's cost (a Cluster client sends each hit at once; its `enableAutoPipelining`
 * option groups them per node). Keys are `<prefix><policy>:<algorithm>:{<key>}`: the hash
 * tag keeps one client's counters together on Redis Cluster. Every write sets a TTL.
 *
 * Failures: each hit has a `timeoutMs` budget; failures in a row open a circuit
 * breaker so a dead Redis is not hammered; the limiter then uses its insurance
 * store, fails open or answers 503, and returns to Redis by itself when a probe
 * succeeds.
 *
 * @example
 * ```ts
 * const client = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
 * const store = new RedisRateLimitStore({ client, prefix: 'users-api:rl:' });
 * ```
 */
export class RedisRateLimitStore implements RateLimitStore {
  readonly #client: Record<string, ScriptCommand> & RedisClientLike;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #breaker: CircuitBreaker;
  /** Commands in flight, oldest first; answered ones at the head are dropped at once. */
  readonly #queue: (InFlight | undefined)[] = [];
  #head = 0;
  #sweep: NodeJS.Timeout | undefined;
  /** Leases by Redis key, oldest first; undefined when leasing is off. */
  readonly #leases: Map<string, Lease> | undefined;
  readonly #leaseShare: number;
  readonly #maxLeases: number;
  /** Whether exact-mode hits are batched into one pipeline per event-loop turn. */
  readonly #batching: boolean;
  /** Hits of this turn, sent by `#flush`. */
  #batch: QueuedHit[] = [];

  constructor(options: RedisRateLimitStoreOptions) {
    const client = options?.client as (Record<string, ScriptCommand> & RedisClientLike) | undefined;
    if (typeof client?.defineCommand !== 'function') {
      throw new ConfigurationError(
        `${FACTORY}: \`client\` must be an ioredis client (new Redis(url) or new Cluster(nodes)).`,
      );
    }
    const prefix = options.prefix ?? 'rl:';
    if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
      throw new ConfigurationError(
        `${FACTORY}: \`prefix\` must be a string without { or }, which would break the Redis Cluster hash tag; received ${JSON.stringify(prefix)}.`,
      );
    }
    this.#client = client;
    this.#prefix = prefix;
    this.#batching = typeof client.pipeline === 'function' && client.isCluster !== true;
    this.#timeoutMs = positiveInteger(FACTORY, 'timeoutMs', options.timeoutMs, 50);
    this.#breaker = new CircuitBreaker(
      positiveInteger(FACTORY, 'breakerThreshold', options.breakerThreshold, 3),
      positiveInteger(FACTORY, 'breakerCooldownMs', options.breakerCooldownMs, 2000),
    );
    for (const [algorithm, name] of Object.entries(COMMANDS)) {
      client.defineCommand(name, {
        lua: ALGORITHMS[algorithm as RateLimitAlgorithm].lua,
        numberOfKeys: 1,
      });
    }
    const lease = options.lease ?? false;
    if (typeof lease !== 'boolean' && (typeof lease !== 'object' || lease === null)) {
      throw new ConfigurationError(
        `${FACTORY}: \`lease\` must be true, false or { share, maxKeys }.`,
      );
    }
    const leaseOptions = lease === true ? {} : lease === false ? undefined : lease;
    const share = leaseOptions?.share ?? 0.02;
    if (typeof share !== 'number' || !(share > 0 && share <= 0.5)) {
      throw new ConfigurationError(
        `${FACTORY}: \`lease.share\` must be above 0 and at most 0.5 (a share of the limit per lease); received ${String(share)}.`,
      );
    }
    this.#leaseShare = share;
    this.#maxLeases = positiveInteger(FACTORY, 'lease.maxKeys', leaseOptions?.maxKeys, 10_000);
    this.#leases = leaseOptions === undefined ? undefined : new Map();
    if (this.#leases !== undefined) {
      client.defineCommand(LEASE_COMMAND, { lua: FIXED_WINDOW_LEASE_LUA, numberOfKeys: 1 });
    }
    // Gives back leased units, and refunds (same script: units off a window still open).
    client.defineCommand(RELEASE_COMMAND, { lua: FIXED_WINDOW_RELEASE_LUA, numberOfKeys: 1 });
  }

  /** The Redis key of `key` under `policy`. */
  keyOf(key: string, policy: PolicyLimits): string {
    return `${this.#prefix}${policy.name}:${KEY_CODES[policy.algorithm]}:{${key}}`;
  }

  /** The circuit breaker's state at `now`. */
  circuitState(now: number): 'closed' | 'open' | 'half-open' {
    return this.#breaker.state(now);
  }

  hit(
    key: string,
    policy: PolicyLimits,
    cost: number,
    now: number,
  ): HitResult | Promise<HitResult> {
    if (this.#leases !== undefined && policy.algorithm === 'fixed-window' && cost > 0) {
      return this.#leasedHit(this.keyOf(key, policy), policy, cost, now);
    }
    if (!this.#breaker.allow(now)) return this.#rejectOpen(now);
    const hit: QueuedHit = {
      command: COMMANDS[policy.algorithm],
      key: this.keyOf(key, policy),
      limit: policy.limit,
      windowMs: policy.windowMs,
      cost,
      now,
      resolve: noop,
      reject: noop,
    };
    const send: () => Promise<ScriptReply> = this.#batching
      ? () =>
          new Promise((resolve, reject) => {
            hit.resolve = resolve;
            hit.reject = reject;
            // The real setImmediate (node:timers): fake timers in a test must not hold I/O back.
            if (this.#batch.length === 0) setImmediate(this.#flush);
            this.#batch.push(hit);
          })
      : () => runScript(this.#client, hit);
    return this.#guard(send, now, toHitResult);
  }

  /**
   * Sends this turn's hits: alone as it is, or several as one pipeline. Never throws (it
   * runs from `setImmediate`): a failure to send fails the hits, each under its guard.
   */
  readonly #flush = (): void => {
    const batch = this.#batch;
    this.#batch = [];
    const failAll = (error: unknown) => {
      for (const hit of batch) hit.reject(error);
    };
    try {
      if (batch.length === 1) {
        const hit = batch[0] as QueuedHit;
        runScript(this.#client, hit).then(hit.resolve, hit.reject);
        return;
      }
      const client = this.#client;
      const pipeline = (client.pipeline as NonNullable<RedisClientLike['pipeline']>).call(client);
      for (const hit of batch) {
        runScript(pipeline, hit);
      }
      pipeline.exec().then((results) => {
        for (let i = 0; i < batch.length; i++) {
          const hit = batch[i] as QueuedHit;
          const result = results?.[i];
          if (result === undefined) hit.reject(new Error('no reply in the pipeline'));
          else if (result[0] !== null) hit.reject(result[0]);
          else hit.resolve(result[1] as ScriptReply);
        }
      }, failAll);
    } catch (error) {
      failAll(error);
    }
  };

  /**
   * Gives back the units leased and not spent, for windows still open (leasing mode; a
   * no-op otherwise): call it when the instance stops, so its share is not lost.
   */
  async releaseLeases(): Promise<void> {
    const leases = this.#leases;
    if (leases === undefined) return;
    const release = this.#client[RELEASE_COMMAND] as unknown as ReleaseCommand;
    // A window that has ended since is left alone by the script (its start differs).
    const held = [...leases].filter(([, lease]) => lease.units > 0);
    leases.clear();
    await Promise.all(
      held.map(([key, lease]) =>
        release.call(this.#client, key, lease.units, lease.start).catch(noop),
      ),
    );
  }

  /** A hit spent from this instance's lease on `redisKey`, leasing again when it runs out. */
  #leasedHit(
    redisKey: string,
    policy: PolicyLimits,
    cost: number,
    now: number,
  ): HitResult | Promise<HitResult> {
    const lease = this.#leases?.get(redisKey);
    if (lease !== undefined && now < lease.end) {
      if (lease.units >= cost) {
        lease.units -= cost;
        return {
          allowed: true,
          remaining: lease.remaining + lease.units,
          resetMs: lease.end - now,
          retryAfterMs: 0,
        };
      }
      if (lease.spent) {
        const wait = lease.end - now;
        return { allowed: false, remaining: lease.units, resetMs: wait, retryAfterMs: wait };
      }
      if (lease.pending !== undefined) {
        return lease.pending.then(() => this.#leasedHit(redisKey, policy, cost, now));
      }
    }
    return this.#lease(
      redisKey,
      lease !== undefined && now < lease.end ? lease : undefined,
      policy,
      cost,
      now,
    );
  }

  /** Takes a slice of `redisKey`'s quota from Redis (at least `cost` units), then applies the hit. */
  #lease(
    redisKey: string,
    current: Lease | undefined,
    policy: PolicyLimits,
    cost: number,
    now: number,
  ): Promise<HitResult> {
    if (!this.#breaker.allow(now)) return this.#rejectOpen(now);
    const leases = this.#leases as Map<string, Lease>;
    const lease: Lease = current ?? {
      start: now,
      end: now + policy.windowMs,
      units: 0,
      remaining: policy.limit,
      spent: false,
      pending: undefined,
    };
    if (current === undefined) {
      leases.delete(redisKey);
      // Bounded under any number of keys: the oldest lease goes first.
      if (leases.size >= this.#maxLeases) leases.delete(leases.keys().next().value as string);
      leases.set(redisKey, lease);
    }
    const want = Math.max(cost - lease.units, Math.ceil(policy.limit * this.#leaseShare));
    const command = this.#client[LEASE_COMMAND] as unknown as LeaseCommand;
    const taken = this.#guard(
      () => command.call(this.#client, redisKey, policy.limit, policy.windowMs, want, now),
      now,
      toLeaseReply,
    );
    lease.pending = taken.then(
      ([granted, remaining, start]) => {
        lease.pending = undefined;
        if (start !== lease.start) {
          // Redis opened another window: what was left of this one is gone.
          lease.start = start;
          lease.end = start + policy.windowMs;
          lease.units = 0;
        }
        lease.units += granted;
        lease.remaining = remaining;
        lease.spent = lease.units < cost;
      },
      () => {
        lease.pending = undefined;
      },
    );
    return taken.then(() => this.#leasedHit(redisKey, policy, cost, now));
  }

  refund(
    key: string,
    policy: PolicyLimits,
    cost: number,
    windowStart: number,
    now: number,
  ): Promise<void> {
    if (policy.algorithm !== 'fixed-window' || cost <= 0) return Promise.resolve();
    if (!this.#breaker.allow(now)) return this.#rejectOpen(now).then(noop);
    const release = this.#client[RELEASE_COMMAND] as unknown as ReleaseCommand;
    return this.#guard(
      () => release.call(this.#client, this.keyOf(key, policy), cost, windowStart),
      now,
      noop,
    );
  }

  reset(key: string, policy: PolicyLimits, now: number): Promise<void> {
    this.#leases?.delete(this.keyOf(key, policy));
    if (!this.#breaker.allow(now)) return this.#rejectOpen(now);
    return this.#guard(() => this.#client.del(this.keyOf(key, policy)), now, noop);
  }

  #rejectOpen(now: number): Promise<never> {
    return Promise.reject(
      new RateLimitStoreError(
        'circuit-open',
        `Redis rate-limit store: circuit open after repeated failures; next probe in ${this.#breaker.retryInMs(now)} ms.`,
      ),
    );
  }

  /**
   * Runs one command under the timeout and records its outcome, once, in the breaker.
   * Every command gets the same `timeoutMs` and Redis answers a connection in order,
   * so commands wait in a FIFO queue watched by one timer instead of arming a timer
   * each; an answered command leaves the queue (and the heap) at once.
   */
  #guard<T, R>(send: () => Promise<T>, now: number, map: (answer: T) => R): Promise<R> {
    let sent: Promise<T>;
    try {
      sent = send();
    } catch (error) {
      this.#breaker.failure(now);
      return Promise.reject(commandFailed(error));
    }
    const command = new InFlight(performance.now() + this.#timeoutMs, now);
    const answer = new Promise<R>((resolve, reject) => {
      command.resolve = resolve as (value: unknown) => void;
      command.reject = reject;
    });
    this.#queue.push(command);
    this.#sweep ??= setTimeout(this.#onDeadline, this.#timeoutMs).unref();
    sent.then(
      (value) => {
        if (command.settled) return;
        let mapped: R;
        try {
          mapped = map(value);
        } catch (error) {
          // An answer of the wrong shape: a failure, never an unhandled rejection.
          this.#fail(command, commandFailed(error));
          this.#dropAnswered();
          return;
        }
        command.settled = true;
        this.#breaker.success();
        command.resolve(mapped);
        this.#dropAnswered();
      },
      (error: unknown) => {
        this.#fail(command, commandFailed(error));
        this.#dropAnswered();
      },
    );
    return answer;
  }

  #fail(command: InFlight, error: RateLimitStoreError): void {
    if (command.settled) return;
    command.settled = true;
    this.#breaker.failure(command.now);
    command.reject(error);
  }

  /** Drops settled commands from the head of the queue. */
  #dropAnswered(): void {
    const queue = this.#queue;
    let head = this.#head;
    while (head < queue.length && (queue[head] as InFlight).settled) queue[head++] = undefined;
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
    } else if (head >= 1024) {
      queue.splice(0, head);
      head = 0;
    }
    this.#head = head;
  }

  /** The one timer: fails the commands whose deadline passed, then waits for the next. */
  readonly #onDeadline = (): void => {
    this.#sweep = undefined;
    const queue = this.#queue;
    const at = performance.now();
    for (let i = this.#head; i < queue.length; i++) {
      const command = queue[i] as InFlight;
      if (command.settled) continue;
      if (command.deadline > at) break;
      this.#fail(
        command,
        new RateLimitStoreError(
          'timeout',
          `Redis rate-limit store: no answer within ${this.#timeoutMs} ms.`,
        ),
      );
    }
    this.#dropAnswered();
    const next = queue[this.#head];
    if (next !== undefined) {
      this.#sweep = setTimeout(this.#onDeadline, Math.max(1, next.deadline - at)).unref();
    }
  };
}

/** A command waiting for Redis. */
class InFlight {
  settled = false;
  resolve: (value: unknown) => void = noop;
  reject: (error: unknown) => void = noop;
  /** `performance.now()` after which it fails with a timeout. */
  readonly deadline: number;
  /** The limiter clock's time of the hit, for the breaker. */
  readonly now: number;

  constructor(deadline: number, now: number) {
    this.deadline = deadline;
    this.now = now;
  }
}

function noop(): void {}

/** Runs a hit's script command on a client, or queues it on a pipeline (which returns itself). */
function runScript(target: object, hit: QueuedHit): Promise<ScriptReply> {
  const command = (target as Record<string, ScriptCommand>)[hit.command] as ScriptCommand;
  return command.call(target, hit.key, hit.limit, hit.windowMs, hit.cost, hit.now);
}

function commandFailed(error: unknown): RateLimitStoreError {
  return new RateLimitStoreError(
    'command-failed',
    'Redis rate-limit store: command failed.',
    error,
  );
}

/**
 * What the scripts return: `[remaining, resetMs]` for an allowed hit and
 * `[remaining, resetMs, retryAfterMs]` for a refused one (see `LUA_RESULT`); the
 * shorter reply is less for Redis to write and ioredis to parse on every hit.
 */
type ScriptReply = readonly [number, number] | readonly [number, number, number];

function toLeaseReply(reply: readonly [number, number, number]): readonly [number, number, number] {
  if (!Array.isArray(reply) || reply.length !== 3) throw new TypeError('unexpected lease reply');
  return reply;
}

function toHitResult(reply: ScriptReply): HitResult {
  return {
    allowed: reply.length === 2,
    remaining: reply[0],
    resetMs: reply[1],
    retryAfterMs: reply[2] ?? 0,
  };
}
