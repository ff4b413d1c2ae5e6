import type { CompiledPolicy } from './policy.js';
import type { HitResult } from './store.js';
import { FAIL_OPEN_RESULT } from './store-fallback.js';

/** One policy's verdict on one request. */
export interface RateLimitDecision {
  /** Policy name. */
  readonly policy: string;
  /** Whether the request fit. */
  readonly allowed: boolean;
  /** Units left (undefined when the store failed and the limiter failed open). */
  readonly remaining: number | undefined;
  /** Seconds until the quota is whole again (undefined when failed open). */
  readonly resetSeconds: number | undefined;
}

/** What a limiter decided for one request (no decisions when the request was skipped). */
export interface RateLimitResult {
  /**
   * One decision per policy that applied, in the limiter's policy order; a policy whose
   * key the request lacks (no user for a `'user'` key) has none. Every one allowed the
   * request: a denial throws the 429 instead.
   */
  readonly decisions: readonly RateLimitDecision[];
}

/** Placeholder until an asynchronous store answers. */
const PENDING: HitResult = Object.freeze({
  allowed: true,
  remaining: 0,
  resetMs: 0,
  retryAfterMs: 0,
});

/**
 * A {@link RateLimitDecision} over the store's raw result: one object per policy
 * per request serves the headers, the 429 and the caller.
 */
export class Decision implements RateLimitDecision {
  /** The policy decided on. */
  readonly compiled: CompiledPolicy;
  /** The store's answer (set later when the store is asynchronous). */
  result: HitResult;

  constructor(compiled: CompiledPolicy, result: HitResult = PENDING) {
    this.compiled = compiled;
    this.result = result;
  }

  get policy(): string {
    return this.compiled.name;
  }
  get allowed(): boolean {
    return this.result.allowed;
  }
  /** False when the store failed and the limiter failed open: nothing is known to report. */
  get known(): boolean {
    return this.result !== FAIL_OPEN_RESULT;
  }
  get remaining(): number | undefined {
    return this.known ? this.result.remaining : undefined;
  }
  get resetSeconds(): number | undefined {
    return this.known ? Math.ceil(this.result.resetMs / 1000) : undefined;
  }
  /** Stores an asynchronous store's answer; bound once per decision that needs it. */
  settle(result: HitResult): void {
    this.result = result;
  }
}
