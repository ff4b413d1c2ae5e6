import { ConfigurationError, type Context } from '@org/core';
import { positiveInteger } from '@org/core/adapter';
import type { PolicyLimits, RateLimitAlgorithm } from './store.js';

/**
 * Whose requests share a counter: the client's IP (IPv6 grouped by prefix), the
 * authenticated principal (`ctx.principalId`; requests without one skip the policy),
 * the matched route template (one counter per route for everyone), or your function
 * (returning undefined skips the policy for that request).
 */
export type RateLimitKey = 'ip' | 'user' | 'route' | ((ctx: Context) => string | undefined);

/** One quota: `limit` units per `windowMs`, counted per `key`. */
export interface RateLimitPolicyOptions {
  /**
   * Name shown in the `RateLimit` headers and 429 bodies; unique within a limiter.
   * Letters, digits and `_ . : -`.
   * @default 'default'
   */
  name?: string;
  /** Units allowed per window (the quota, `q`). @default 60 */
  limit?: number;
  /** The window in milliseconds (`w`, rounded up to seconds in headers). @default 60000 */
  windowMs?: number;
  /** How counts evolve: `fixed-window`, `sliding-window` or `gcra`. @default 'fixed-window' */
  algorithm?: RateLimitAlgorithm;
  /** Whose requests share a counter. @default 'ip' */
  key?: RateLimitKey;
  /** Units one request costs: a number, or a function of the request. @default 1 */
  cost?: number | ((ctx: Context) => number);
}

/** A limiter's policy as it runs. */
export interface RateLimitPolicy extends PolicyLimits {
  /** What the counter key comes from. */
  readonly keyKind: 'ip' | 'user' | 'route' | 'custom';
}

/** A policy checked and precomputed at start-up. */
export interface CompiledPolicy extends RateLimitPolicy {
  readonly keyOf: ((ctx: Context) => string | undefined) | undefined;
  readonly cost: number;
  readonly costOf: ((ctx: Context) => number) | undefined;
  /** Window in whole seconds, as headers carry it. */
  readonly windowSeconds: number;
  /** This policy's `RateLimit-Policy` item (draft-ietf-httpapi-ratelimit-headers-10 section 3). */
  readonly policyItem: string;
  /** The start of its `RateLimit` item (section 4), up to the remaining count. */
  readonly limitItemStart: string;
}

const ALGORITHM_NAMES: readonly RateLimitAlgorithm[] = ['fixed-window', 'sliding-window', 'gcra'];
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

/** Checks one policy's options and precomputes its header fragments. */
export function compilePolicy(options: RateLimitPolicyOptions, factory: string): CompiledPolicy {
  const name = options.name ?? 'default';
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new ConfigurationError(
      `${factory}: policy \`name\` must be 1-64 letters, digits or _ . : - (it goes into headers and store keys); received ${JSON.stringify(name)}.`,
    );
  }
  const where = `${factory} (policy "${name}")`;
  const limit = positiveInteger(where, 'limit', options.limit, 60);
  const windowMs = positiveInteger(where, 'windowMs', options.windowMs, 60_000);
  const algorithm = options.algorithm ?? 'fixed-window';
  if (!ALGORITHM_NAMES.includes(algorithm)) {
    throw new ConfigurationError(
      `${where}: \`algorithm\` must be one of ${ALGORITHM_NAMES.join(', ')}; received ${JSON.stringify(algorithm)}.`,
    );
  }
  const key = options.key ?? 'ip';
  let keyKind: CompiledPolicy['keyKind'];
  if (typeof key === 'function') keyKind = 'custom';
  else if (key === 'ip' || key === 'user' || key === 'route') keyKind = key;
  else {
    throw new ConfigurationError(
      `${where}: \`key\` must be 'ip', 'user', 'route' or a function of the context; received ${JSON.stringify(key)}.`,
    );
  }
  const cost = options.cost ?? 1;
  if (typeof cost !== 'function' && (!Number.isSafeInteger(cost) || cost <= 0 || cost > limit)) {
    throw new ConfigurationError(
      `${where}: \`cost\` must be a positive integer no larger than \`limit\` (${limit}), or a function; received ${String(cost)}.`,
    );
  }
  if (algorithm === 'gcra' && windowMs / limit < 0.01) {
    // GCRA advances an epoch-milliseconds timestamp by window / limit per unit; below
    // 0.01 ms that step drowns in the float's rounding and nothing would be counted.
    throw new ConfigurationError(
      `${where}: gcra needs \`windowMs\` / \`limit\` of at least 0.01 ms; received ${windowMs} / ${limit}. Use a longer window or fixed-window.`,
    );
  }
  const windowSeconds = Math.ceil(windowMs / 1000);
  return {
    name,
    limit,
    windowMs,
    algorithm,
    keyKind,
    keyOf: typeof key === 'function' ? key : undefined,
    cost: typeof cost === 'function' ? 1 : cost,
    costOf: typeof cost === 'function' ? cost : undefined,
    windowSeconds,
    policyItem: `"${name}";q=${limit};w=${windowSeconds}`,
    limitItemStart: `"${name}";r=`,
  };
}

const claims = new WeakMap<object, Map<string, string>>();

/**
 * Records that `policies` count in `store`. Policies with one name share counters
 * there (how one quota spans several routes), so a second policy of that name must
 * have the same algorithm, limit and window.
 * @throws A {@link ConfigurationError} when two different policies claim one name.
 */
export function claimPolicyNames(
  store: object,
  policies: readonly PolicyLimits[],
  factory: string,
): void {
  let names = claims.get(store);
  if (names === undefined) claims.set(store, (names = new Map()));
  for (const policy of policies) {
    const shape = `${policy.algorithm}, ${policy.limit} per ${policy.windowMs} ms`;
    const existing = names.get(policy.name);
    if (existing !== undefined && existing !== shape) {
      throw new ConfigurationError(
        `${factory}: policy "${policy.name}" (${shape}) shares its store with another policy of that name (${existing}), and would share its counters. Give each policy a distinct \`name\`.`,
      );
    }
    names.set(policy.name, shape);
  }
}

/** Compiles a limiter's policies and checks their names are unique. */
export function compilePolicies(
  list: readonly RateLimitPolicyOptions[],
  factory: string,
): readonly CompiledPolicy[] {
  if (list.length === 0) {
    throw new ConfigurationError(`${factory}: \`policies\` must hold at least one policy.`);
  }
  const policies = list.map((options) => compilePolicy(options, factory));
  const names = new Set<string>();
  for (const policy of policies) {
    if (names.has(policy.name)) {
      throw new ConfigurationError(
        `${factory}: two policies are named "${policy.name}"; give each a distinct \`name\` (for example "per-ip" and "per-user").`,
      );
    }
    names.add(policy.name);
  }
  return Object.freeze(policies);
}
