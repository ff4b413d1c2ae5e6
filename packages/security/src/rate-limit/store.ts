/**
 * The contract between limiters and the places counters live. Memory and Redis
 * stores ship with this package; anything else (a database, another cache) can
 * implement {@link RateLimitStore}.
 */

/** The rate-limiting algorithms every store implements. */
export type RateLimitAlgorithm = 'fixed-window' | 'sliding-window' | 'gcra';

/** What a store needs to know about a policy to apply one hit. */
export interface PolicyLimits {
  /** Policy name; part of every stored key, so two policies never share a counter. */
  readonly name: string;
  /** How counts evolve over time. */
  readonly algorithm: RateLimitAlgorithm;
  /** Units allowed per window (the quota). */
  readonly limit: number;
  /** The window, in milliseconds. */
  readonly windowMs: number;
}

/** The outcome of one hit on one key. */
export interface HitResult {
  /** Whether the hit fit in the quota. A denied hit consumes nothing. */
  readonly allowed: boolean;
  /** Units left after this hit (never negative). */
  readonly remaining: number;
  /** Milliseconds until the whole quota is available again. */
  readonly resetMs: number;
  /** Milliseconds until this hit would be allowed; 0 when it was. */
  readonly retryAfterMs: number;
}

/**
 * Where counters live. `hit` applies `cost` units to `key` under `policy` at time
 * `now` (milliseconds, from the limiter's clock), atomically: concurrent hits on one
 * key never over-admit. A cost of 0 reads the state without changing it.
 *
 * Stores may answer synchronously (memory) or with a promise (Redis); callers await
 * only promises. A store that cannot answer throws or rejects with
 * {@link RateLimitStoreError}.
 */
export interface RateLimitStore {
  /** Applies one hit. */
  hit(key: string, policy: PolicyLimits, cost: number, now: number): HitResult | Promise<HitResult>;
  /** Forgets `key` under `policy` (a successful login clears its failures). */
  reset(key: string, policy: PolicyLimits, now: number): void | Promise<void>;
  /**
   * Gives back `cost` units of a `fixed-window` hit made in the window that started at
   * `windowStart`, when that window is still the key's (else nothing), at time `now`: for
   * an attempt counted in advance that never ran, as a login the password hasher refused.
   * Optional: without it nothing is given back.
   */
  refund?(
    key: string,
    policy: PolicyLimits,
    cost: number,
    windowStart: number,
    now: number,
  ): void | Promise<void>;
}

/** When the `fixed-window` window of a hit `result` answered at `now` started. */
export function windowStartOf(result: HitResult, policy: PolicyLimits, now: number): number {
  return now + result.resetMs - policy.windowMs;
}

/** Why a store could not answer. */
export type StoreFailureReason = 'timeout' | 'circuit-open' | 'command-failed';

/** A store could not answer in time: the limiter falls back to its insurance, fails open, or answers 503. */
export class RateLimitStoreError extends Error {
  /** Stable code. */
  static readonly code = 'ERR_RATE_LIMIT_STORE';
  /** Stable code. */
  readonly code = RateLimitStoreError.code;
  /** Why the store failed. */
  readonly reason: StoreFailureReason;
  constructor(reason: StoreFailureReason, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'RateLimitStoreError';
    this.reason = reason;
  }
}
