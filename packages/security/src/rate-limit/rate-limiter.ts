import {
  type Clock,
  ConfigurationError,
  type Context,
  rateLimitDecisionChannel,
  type SecurityEvent,
  securityEventChannel,
  systemClock,
  TooManyRequestsError,
} from '@org/core';
import { booleanOption, integerInRange } from '@org/core/adapter';
import { ipKey } from '../client-ip/ip-address.js';
import { Decision, type RateLimitResult } from './decision.js';
import { type HeaderSettings, type LegacyHeaders, writeRateLimitHeaders } from './headers.js';
import { MemoryRateLimitStore } from './memory-store.js';
import {
  type CompiledPolicy,
  claimPolicyNames,
  compilePolicies,
  type RateLimitPolicy,
  type RateLimitPolicyOptions,
} from './policy.js';
import type { HitResult, PolicyLimits, RateLimitStore } from './store.js';
import { type StoreFailureListener, StoreFallback } from './store-fallback.js';

/** Options of {@link createRateLimiter}, {@link rateLimit} and {@link rateLimitPlugin}. */
export interface RateLimitOptions extends RateLimitPolicyOptions {
  /** Several quotas checked on every request (per IP and per user); replaces the single-policy fields above. */
  policies?: readonly RateLimitPolicyOptions[];
  /** Where counters live. @default a new {@link MemoryRateLimitStore} */
  store?: RateLimitStore;
  /** Request paths never limited, matched exactly (`/healthz`, `/metrics`), or a function of the request. @default [] */
  skip?: readonly string[] | ((ctx: Context) => boolean);
  /** When the store fails and no insurance answers: true lets the request through, false answers 503. @default false */
  failOpen?: boolean;
  /**
   * A store that takes over while `store` is failing (per-instance counts beat no
   * limits and beat refusing everyone): true for a fresh memory store, or your own, or false.
   * @default true
   */
  insurance?: boolean | RateLimitStore;
  /** Send `RateLimit-Policy` and `RateLimit`. @default true */
  standardHeaders?: boolean;
  /** Also send older header families. @default [] */
  legacyHeaders?: readonly LegacyHeaders[];
  /** Bits of an IPv6 address that form its key (48 to 128). @default 64 */
  ipv6PrefixLength?: number;
  /** Source of time. @default systemClock */
  clock?: Clock;
  /** Told about store failures. @default the first failure of each outage goes to the toolkit's error hooks */
  onStoreError?: (error: unknown, ctx: Context) => void;
}

/** A configured limiter; {@link rateLimit} and {@link rateLimitPlugin} wrap one. */
export interface RateLimiter {
  /**
   * Counts the request against every policy that applies, writes the headers, and
   * throws a 429 `TooManyRequestsError` (or 503 when failing closed) when over quota.
   * Returns synchronously for synchronous stores.
   */
  check(ctx: Context): RateLimitResult | Promise<RateLimitResult>;
  /** The policies, as compiled at start-up. */
  readonly policies: readonly RateLimitPolicy[];
}

const SKIPPED: RateLimitResult = Object.freeze({ decisions: Object.freeze([]) });
const ignore = (): void => {};

class Limiter implements RateLimiter, StoreFailureListener {
  readonly policies: readonly CompiledPolicy[];
  readonly #store: StoreFallback;
  readonly #skipPaths: ReadonlySet<string> | undefined;
  readonly #skipWhen: ((ctx: Context) => boolean) | undefined;
  readonly #headers: HeaderSettings;
  readonly #ipv6PrefixLength: number;
  readonly #clock: Clock;
  readonly #onStoreError: ((error: unknown, ctx: Context) => void) | undefined;

  constructor(options: RateLimitOptions, factory: string) {
    const { policies, ...single } = options;
    if (
      policies !== undefined &&
      (single.limit ?? single.windowMs ?? single.key ?? single.name) !== undefined
    ) {
      throw new ConfigurationError(
        `${factory}: pass either \`policies\` or the single-policy fields (limit, windowMs, key, name), not both.`,
      );
    }
    this.policies = compilePolicies(policies ?? [single], factory);
    const insurance = options.insurance ?? true;
    const store = options.store ?? new MemoryRateLimitStore();
    claimPolicyNames(store, this.policies, factory);
    this.#store = new StoreFallback(
      store,
      insurance === true ? new MemoryRateLimitStore() : insurance === false ? undefined : insurance,
      booleanOption(factory, 'failOpen', options.failOpen, false),
      this,
    );
    const skip = options.skip ?? [];
    if (typeof skip === 'function') this.#skipWhen = skip;
    else if (skip.length > 0) this.#skipPaths = new Set(skip);
    const legacy = options.legacyHeaders ?? [];
    for (const family of legacy) {
      if (family !== 'ratelimit' && family !== 'x-ratelimit') {
        throw new ConfigurationError(
          `${factory}: \`legacyHeaders\` entries are 'ratelimit' and 'x-ratelimit'; received ${JSON.stringify(family)}.`,
        );
      }
    }
    this.#headers = {
      standard: booleanOption(factory, 'standardHeaders', options.standardHeaders, true),
      legacy: legacy.includes('ratelimit'),
      xLegacy: legacy.includes('x-ratelimit'),
      allPolicies: this.policies.map((p) => p.policyItem).join(', '),
      policyCount: this.policies.length,
    };
    this.#ipv6PrefixLength = integerInRange(factory, 'ipv6PrefixLength', options.ipv6PrefixLength, {
      min: 48,
      max: 128,
      fallback: 64,
    });
    this.#clock = options.clock ?? systemClock;
    this.#onStoreError = options.onStoreError;
  }

  check(ctx: Context): RateLimitResult | Promise<RateLimitResult> {
    if (this.#skipPaths?.has(ctx.request.path) || this.#skipWhen?.(ctx)) return SKIPPED;
    const now = this.#clock.now();
    const decisions: Decision[] = [];
    // Asynchronous answers, with the decisions they settle, in the same order.
    let pending: Promise<HitResult>[] | undefined;
    let unsettled: Decision[] | undefined;
    let ip: string | undefined;
    for (const policy of this.policies) {
      let key: string | undefined;
      switch (policy.keyKind) {
        case 'ip':
          key = ip ??= ipKey(ctx.clientIp, this.#ipv6PrefixLength);
          break;
        case 'user':
          key = ctx.principalId;
          break;
        case 'route':
          key = ctx.request.route;
          break;
        case 'custom':
          key = (policy.keyOf as (ctx: Context) => string | undefined)(ctx);
          break;
      }
      if (key === undefined) continue;
      const cost = policy.costOf === undefined ? policy.cost : costOf(policy, ctx);
      let hit: HitResult | Promise<HitResult>;
      try {
        hit = this.#store.hit(ctx, key, policy, cost, now);
      } catch (refusal) {
        // Failing closed: nobody will await the hits already sent, so silence them.
        if (pending !== undefined) for (const other of pending) other.catch(ignore);
        throw refusal;
      }
      if (hit instanceof Promise) {
        const decision = new Decision(policy);
        decisions.push(decision);
        (pending ??= []).push(hit);
        (unsettled ??= []).push(decision);
      } else {
        decisions.push(new Decision(policy, hit));
      }
    }
    if (pending === undefined) return this.#decide(ctx, decisions, now);
    const waiting = unsettled as Decision[];
    // One promise for the usual single policy; Promise.all only for several.
    if (pending.length === 1) {
      return (pending[0] as Promise<HitResult>).then((result) => {
        (waiting[0] as Decision).settle(result);
        return this.#decide(ctx, decisions, now);
      });
    }
    return Promise.all(pending).then((results) => {
      results.forEach((result, i) => {
        (waiting[i] as Decision).settle(result);
      });
      return this.#decide(ctx, decisions, now);
    });
  }

  /** @internal {@link StoreFailureListener}: count it; report the first failure of an outage. */
  storeFailed(error: unknown, ctx: Context, policy: PolicyLimits, firstOfOutage: boolean): void {
    if (rateLimitDecisionChannel.hasSubscribers) {
      rateLimitDecisionChannel.publish({ ctx, policy: policy.name, decision: 'store_error' });
    }
    if (this.#onStoreError !== undefined) this.#onStoreError(error, ctx);
    else if (firstOfOutage) ctx.toolkit.reportError(error, ctx, 'rate limit store');
  }

  #decide(ctx: Context, decisions: readonly Decision[], now: number): RateLimitResult {
    let denied: Decision | undefined;
    for (const decision of decisions) {
      const result = decision.result;
      if (
        !result.allowed &&
        (denied === undefined || result.retryAfterMs > denied.result.retryAfterMs)
      ) {
        denied = decision;
      }
    }
    if (rateLimitDecisionChannel.hasSubscribers) publishDecisions(ctx, decisions);
    writeRateLimitHeaders(ctx, this.#headers, decisions, now);
    if (denied !== undefined) {
      if (securityEventChannel.hasSubscribers) publishExceeded(ctx, denied, now);
      throw tooManyRequests(denied);
    }
    return { decisions };
  }
}

function costOf(policy: CompiledPolicy, ctx: Context): number {
  const cost = (policy.costOf as (ctx: Context) => number)(ctx);
  if (Number.isSafeInteger(cost) && cost >= 0) return cost;
  throw new ConfigurationError(
    `rateLimit: the \`cost\` function of policy "${policy.name}" returned ${String(cost)}; it must return a non-negative integer.`,
  );
}

function publishDecisions(ctx: Context, decisions: readonly Decision[]): void {
  for (const decision of decisions) {
    if (!decision.known) continue;
    rateLimitDecisionChannel.publish({
      ctx,
      policy: decision.policy,
      decision: decision.allowed ? 'allowed' : 'limited',
    });
  }
}

/** One `rate_limit.exceeded` per refused request: the policy whose wait is longest. */
function publishExceeded(ctx: Context, denied: Decision, now: number): void {
  securityEventChannel.publish({
    event: 'rate_limit.exceeded',
    time: now,
    request_id: ctx.requestId,
    client_ip: ctx.clientIp,
    policy: denied.policy,
    key_kind: denied.compiled.keyKind,
  } satisfies SecurityEvent);
}

function tooManyRequests({ compiled: policy, result }: Decision): TooManyRequestsError {
  const retryAfter = Math.ceil(result.retryAfterMs / 1000);
  return new TooManyRequestsError({
    detail: `Rate limit "${policy.name}" of ${policy.limit} per ${policy.windowSeconds} s exceeded. Retry in ${retryAfter} s.`,
    retryAfter,
    // RFC 9457 section 3.2: an extension member names the violated policy.
    extensions: {
      policy: { name: policy.name, quota: policy.limit, window: policy.windowSeconds },
    },
  });
}

/**
 * Creates a limiter: one or more quota policies over one store, with headers,
 * insurance and a failure policy. Each refused request publishes one
 * `rate_limit.exceeded` on the `org:security` channel. {@link rateLimit} (route dependency) and
 * {@link rateLimitPlugin} (app-wide) accept the same options or a limiter.
 *
 * @example
 * ```ts
 * const limiter = createRateLimiter({ limit: 10, windowMs: 60_000, algorithm: 'gcra' });
 * app.post('/search', { limit: rateLimit(limiter) }, search);
 * ```
 * @throws A {@link ConfigurationError} when an option is invalid, naming the first bad one.
 */
export function createRateLimiter(options: RateLimitOptions = {}): RateLimiter {
  return new Limiter(options, 'createRateLimiter');
}

/** @internal {@link createRateLimiter} with the public factory's name in configuration errors. */
export function buildRateLimiter(options: RateLimitOptions, factory: string): RateLimiter {
  return new Limiter(options, factory);
}
