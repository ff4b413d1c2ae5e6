import { type Context, ServiceUnavailableError } from '@org/core';
import type { HitResult, PolicyLimits, RateLimitStore } from './store.js';

/** Told of every failed store call, with the request it failed for. */
export interface StoreFailureListener {
  /** `firstOfOutage` is true for the first failure after the store last answered. */
  storeFailed(error: unknown, ctx: Context, policy: PolicyLimits, firstOfOutage: boolean): void;
}

/** Reports the first failure of each outage to the toolkit's error hooks, not every failed request. */
export const REPORT_OUTAGES: StoreFailureListener = {
  storeFailed(error, ctx, _policy, firstOfOutage) {
    if (firstOfOutage) ctx.toolkit.reportError(error, ctx, 'rate limit store');
  },
};

/** The answer when the store failed and the caller fails open: allowed, nothing known. */
export const FAIL_OPEN_RESULT: HitResult = Object.freeze({
  allowed: true,
  remaining: 0,
  resetMs: 0,
  retryAfterMs: 0,
});

/**
 * A store with a failure policy: while the main store fails (timeout, open circuit,
 * any error), hits go to the insurance store if there is one, else are allowed
 * (fail open) or refused with 503 (fail closed). Recovery needs nothing: the next
 * hit tries the main store again, which lets its circuit breaker probe.
 */
export class StoreFallback {
  readonly #store: RateLimitStore;
  readonly #insurance: RateLimitStore | undefined;
  readonly #failOpen: boolean;
  readonly #listener: StoreFailureListener;
  #healthy = true;
  readonly #answered = (result: HitResult): HitResult => {
    this.#healthy = true;
    return result;
  };

  constructor(
    store: RateLimitStore,
    insurance: RateLimitStore | undefined,
    failOpen: boolean,
    listener: StoreFailureListener = REPORT_OUTAGES,
  ) {
    this.#store = store;
    this.#insurance = insurance;
    this.#failOpen = failOpen;
    this.#listener = listener;
  }

  /** A hit that never fails with a store error; it throws the 503 of a closed failure. */
  hit(
    ctx: Context,
    key: string,
    policy: PolicyLimits,
    cost: number,
    now: number,
  ): HitResult | Promise<HitResult> {
    let hit: HitResult | Promise<HitResult>;
    try {
      hit = this.#store.hit(key, policy, cost, now);
    } catch (error) {
      return this.#fallback(error, ctx, key, policy, cost, now);
    }
    if (!(hit instanceof Promise)) {
      this.#healthy = true;
      return hit;
    }
    return hit.then(this.#answered, (error: unknown) =>
      this.#fallback(error, ctx, key, policy, cost, now),
    );
  }

  #fallback(
    error: unknown,
    ctx: Context,
    key: string,
    policy: PolicyLimits,
    cost: number,
    now: number,
  ): HitResult | Promise<HitResult> {
    this.#listener.storeFailed(error, ctx, policy, this.#healthy);
    this.#healthy = false;
    if (this.#insurance !== undefined) {
      try {
        const hit = this.#insurance.hit(key, policy, cost, now);
        return hit instanceof Promise ? hit.catch(() => this.#refuse()) : hit;
      } catch {
        return this.#refuse();
      }
    }
    return this.#refuse();
  }

  #refuse(): HitResult {
    if (this.#failOpen) return FAIL_OPEN_RESULT;
    throw new ServiceUnavailableError({
      code: 'ERR_RATE_LIMIT_UNAVAILABLE',
      detail: 'Rate limiting is temporarily unavailable. Retry shortly.',
      retryAfter: 1,
    });
  }

  /**
   * Gives back `cost` units in both stores (see {@link RateLimitStore.refund}). Best
   * effort: a store that cannot is left as it is, which errs on the strict side.
   */
  async refund(
    key: string,
    policy: PolicyLimits,
    cost: number,
    windowStart: number,
    now: number,
  ): Promise<void> {
    const stores = this.#insurance === undefined ? [this.#store] : [this.#store, this.#insurance];
    await Promise.all(
      stores.map(async (store) => {
        try {
          await store.refund?.(key, policy, cost, windowStart, now);
        } catch {
          // Nothing given back: the attempt stays counted.
        }
      }),
    );
  }

  /** Resets the key in both stores; a failing main store is reported, not thrown. */
  async reset(ctx: Context, key: string, policy: PolicyLimits, now: number): Promise<void> {
    const insurance = this.#insurance?.reset(key, policy, now);
    try {
      await this.#store.reset(key, policy, now);
      this.#healthy = true;
    } catch (error) {
      this.#listener.storeFailed(error, ctx, policy, this.#healthy);
      this.#healthy = false;
    }
    await insurance;
  }
}
