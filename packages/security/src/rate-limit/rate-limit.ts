import {
  type AnyDependency,
  ConfigurationError,
  type Context,
  type Dependency,
  defineDependency,
  type Plugin,
} from '@org/core';
import type { RateLimitResult } from './decision.js';
import { buildRateLimiter, type RateLimiter, type RateLimitOptions } from './rate-limiter.js';

/**
 * A route dependency that counts the request against the limiter's policies: 429
 * with `Retry-After` and a problem body naming the policy when over quota; the
 * `RateLimit` headers on every answer. Resolves to the decisions, for handlers that
 * want them. Pass options, or a limiter shared by several routes.
 *
 * @example
 * ```ts
 * const perUser = createRateLimiter({
 *   policies: [
 *     { name: 'per-ip', limit: 60, windowMs: 60_000 },
 *     { name: 'per-user', key: 'user', limit: 1000, windowMs: 3_600_000, algorithm: 'gcra' },
 *   ],
 *   store: new RedisRateLimitStore({ client }),
 * });
 * app.get('/reports', { user: currentUser, limit: rateLimit(perUser, { after: [currentUser] }) }, handler);
 * ```
 */
export function rateLimit(
  options: RateLimitOptions | RateLimiter = {},
  dependencyOptions: RateLimitDependencyOptions = {},
): Dependency<RateLimitResult> {
  const limiter = isLimiter(options) ? options : buildRateLimiter(options, 'rateLimit');
  const after = dependencyOptions.after ?? [];
  if (!Array.isArray(after)) {
    throw new ConfigurationError('rateLimit: `after` must be a list of dependencies.');
  }
  return defineDependency({
    name: 'rateLimit',
    inject: Object.fromEntries(after.map((dependency, index) => [`after${index}`, dependency])),
    resolve: (ctx) => limiter.check(ctx),
  });
}

/** Options of the dependency {@link rateLimit} returns. */
export interface RateLimitDependencyOptions {
  /**
   * Dependencies to resolve first. A route's dependencies start together, so a
   * `'user'` policy must wait for the one that authenticates (`currentUser`), or
   * `ctx.principalId` is still unknown and the policy is skipped.
   * @default []
   */
  after?: readonly AnyDependency[];
}

function isLimiter(value: RateLimitOptions | RateLimiter): value is RateLimiter {
  return typeof (value as RateLimiter).check === 'function';
}

class RateLimitPlugin implements Plugin {
  readonly name = 'rateLimit';
  readonly #limiter: RateLimiter;
  constructor(limiter: RateLimiter) {
    this.#limiter = limiter;
  }
  onRequest(ctx: Context): void | Promise<void> {
    const result = this.#limiter.check(ctx);
    if (result instanceof Promise) return result.then(ignore);
  }
}

function ignore(): void {}

/**
 * An app-wide limit, run for every request before routing (so also for unknown
 * paths). Plugins run before routing and authentication, so its policies may key
 * by `'ip'` or a function of the request only; use {@link rateLimit} on routes for
 * `'user'` and `'route'` keys. Put it after the {@link clientIp} plugin.
 *
 * @example
 * ```ts
 * createToolkit({ plugins: [clientIp({ trustProxy: 1 }), rateLimitPlugin({ limit: 60, skip: ['/healthz', '/metrics'] })] });
 * ```
 * @throws A {@link ConfigurationError} when a policy keys by `'user'` or `'route'`, or an option is invalid.
 */
export function rateLimitPlugin(options: RateLimitOptions | RateLimiter = {}): Plugin {
  const limiter = isLimiter(options) ? options : buildRateLimiter(options, 'rateLimitPlugin');
  for (const policy of limiter.policies) {
    if (policy.keyKind === 'user' || policy.keyKind === 'route') {
      throw new ConfigurationError(
        `rateLimitPlugin: policy "${policy.name}" keys by '${policy.keyKind}', which is not known before routing and authentication. Use key: 'ip' or a function here, and rateLimit() as a route dependency for '${policy.keyKind}' keys.`,
      );
    }
  }
  return new RateLimitPlugin(limiter);
}
