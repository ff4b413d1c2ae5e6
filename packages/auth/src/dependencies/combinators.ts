import { type Context, type Dependency, defineDependency, isHttpError } from '@org/core';
import type { Guard, GuardValue } from './types.js';

/**
 * `A | B` to `A & B`: how {@link allOf} merges the values of its guards into one
 * (a user proven both `admin` and `editor`).
 */
type UnionToIntersection<T> = (T extends unknown ? (value: T) => void : never) extends (
  value: infer I,
) => void
  ? I
  : never;

/** A guard, whatever it resolves to. */
// biome-ignore lint/suspicious/noExplicitAny: Dependency<T> is invariant in T; this accepts a guard of any value.
export type AnyGuard = Guard<any>;

/**
 * The guards {@link allOf} and {@link anyOf} take: at least one, tried in the order
 * given. Use it to constrain a helper that passes guards on.
 *
 * @example
 * ```ts
 * const adminOr = <const G extends Guards>(...guards: G) =>
 *   anyOf(auth.requireRoles('admin'), ...guards);
 * ```
 */
export type Guards = readonly [AnyGuard, ...AnyGuard[]];

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

function asGuard<T>(dependency: Dependency<T>): Guard<T> {
  return Object.freeze({ ...dependency, guard: true as const });
}

function describe(kind: string, guards: Guards): string {
  return `${kind}(${guards.map((g) => g.name).join(', ')})`;
}

/**
 * Passes when every guard passes; fails with the first failure, in order. Resolves
 * to the user with every guard's proof (`allOf(requireRoles('admin'), requireScopes('x'))`
 * gives a `WithRoles<User, 'admin'>`).
 *
 * @example
 * ```ts
 * const canPublish = allOf(auth.requireRoles('editor'), auth.requireScopes('posts:write'));
 * app.post('/posts', { editor: canPublish }, handler);
 * ```
 */
export function allOf<const G extends Guards>(
  ...guards: G
): Guard<UnionToIntersection<GuardValue<G[number]>>> {
  if (guards.length === 0) throw new TypeError('allOf() needs at least one guard.');
  const resolveFrom = (ctx: Context, index: number, first: unknown): unknown => {
    for (let i = index; i < guards.length; i++) {
      const value = ctx.resolve(guards[i] as AnyGuard);
      if (isPromiseLike(value)) {
        return Promise.resolve(value).then((v) => resolveFrom(ctx, i + 1, i === 0 ? v : first));
      }
      if (i === 0) first = value;
    }
    return first;
  };
  return asGuard(
    defineDependency({
      name: describe('allOf', guards),
      resolve: (ctx) =>
        resolveFrom(ctx, 0, undefined) as UnionToIntersection<GuardValue<G[number]>>,
    }),
  );
}

/**
 * Passes when any guard passes, trying them in order. When none passes it fails
 * with the first guard's error, except that a 400 or 401 (no or bad credentials) is
 * reported at once: no guard can pass without a valid token.
 *
 * @example
 * ```ts
 * const canRead = anyOf(auth.requireRoles('admin'), auth.requireOwnership(ownerOfDocument));
 * ```
 */
export function anyOf<const G extends Guards>(...guards: G): Guard<GuardValue<G[number]>> {
  if (guards.length === 0) throw new TypeError('anyOf() needs at least one guard.');
  const resolve = async (ctx: Context): Promise<unknown> => {
    let firstError: unknown;
    for (const guard of guards) {
      try {
        const value = ctx.resolve(guard);
        return isPromiseLike(value) ? await value : value;
      } catch (error) {
        // Only a refusal (403, 404) lets the next guard try; anything else is final.
        if (!isHttpError(error) || error.status === 401 || error.status === 400) throw error;
        firstError ??= error;
      }
    }
    throw firstError;
  };
  return asGuard(
    defineDependency({
      name: describe('anyOf', guards),
      resolve: resolve as (ctx: Context) => Promise<GuardValue<G[number]>>,
    }),
  );
}
