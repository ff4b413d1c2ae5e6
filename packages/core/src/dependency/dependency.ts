import type { Context } from '../context/context.js';

/** What a teardown learns about the request it ran for. */
export interface RequestOutcome {
  /** True when an error escaped, the status is 400 or above, or the client went away. */
  readonly failed: boolean;
  /** True when the client closed the connection before the response was complete. */
  readonly aborted: boolean;
  /** The final status code written (0 when nothing was written). */
  readonly status: number;
  /** The error that escaped the route, if any. */
  readonly error: unknown;
}

/** Any dependency, whatever it resolves to. */
// biome-ignore lint/suspicious/noExplicitAny: the variance escape hatch for collections of dependencies.
export type AnyDependency = Dependency<any>;

/** A record of named dependencies, as routes and dependencies declare them. */
export type DependencyMap = Readonly<Record<string, AnyDependency>>;

/** The values a {@link DependencyMap} resolves to. */
export type ResolvedValues<M extends DependencyMap> = {
  -readonly [K in keyof M]: M[K] extends Dependency<infer T> ? T : never;
};

/**
 * An async function of the request context, memoized once per request, with an
 * optional teardown after the response. Create one with {@link defineDependency}.
 */
export interface Dependency<T> {
  /** Name used in errors (cycles) and debugging. */
  readonly name: string;
  /** The dependencies whose values this one receives. */
  readonly inject: DependencyMap;
  /** Produces the value for one request. */
  readonly resolve: (ctx: Context, injected: Record<string, unknown>) => T | Promise<T>;
  /**
   * Runs once after the response was sent (or the client went away); for a value that
   * resolved after that, as soon as it resolved.
   */
  readonly teardown:
    | ((value: T, outcome: RequestOutcome, ctx: Context) => void | Promise<void>)
    | undefined;
}

/** A dependency as {@link defineDependency} makes it: `inject` as entries, computed once. */
interface DefinedDependency {
  readonly injectEntries?: readonly (readonly [string, AnyDependency])[];
}

/** The entries of `dependency.inject`: precomputed by {@link defineDependency}, else worked out now. */
export function injectEntriesOf(
  dependency: AnyDependency,
): readonly (readonly [string, AnyDependency])[] {
  return (dependency as DefinedDependency).injectEntries ?? Object.entries(dependency.inject);
}

/** Options of {@link defineDependency}. */
export interface DependencyOptions<T, M extends DependencyMap> {
  /** Name used in errors and debugging. */
  name: string;
  /** Other dependencies this one needs; their values arrive as the second argument of `resolve`. @default {} */
  inject?: M;
  /** Produces the value. May be sync or async; sync values are not awaited. */
  resolve: (ctx: Context, injected: ResolvedValues<M>) => T | Promise<T>;
  /**
   * Cleans up after the response has been sent, told whether the request failed
   * (commit or roll back a transaction). Runs once, also when the client aborts, and at
   * once for a value that resolved after the request ended (the client left while it
   * was being acquired), so a connection acquired late is released too.
   */
  teardown?: (value: T, outcome: RequestOutcome, ctx: Context) => void | Promise<void>;
}

/**
 * Defines a dependency: FastAPI's `Depends()` for any Node framework.
 *
 * @example
 * ```ts
 * const db = defineDependency({ name: 'db', resolve: () => pool.connect(),
 *   teardown: (conn, { failed }) => (failed ? conn.rollback() : conn.commit()) });
 * const users = defineDependency({ name: 'users', inject: { db },
 *   resolve: (_ctx, { db }) => new UserRepository(db) });
 * ```
 */
export function defineDependency<T, M extends DependencyMap = Record<never, never>>(
  options: DependencyOptions<T, M>,
): Dependency<T> {
  const inject = (options.inject ?? {}) as M;
  for (const [key, value] of Object.entries(inject)) {
    if (typeof value?.resolve !== 'function') {
      throw new TypeError(
        `Dependency "${options.name}" injects "${key}", which is not a dependency; create it with defineDependency().`,
      );
    }
  }
  const dependency: Dependency<T> & DefinedDependency = {
    name: options.name,
    inject,
    injectEntries: Object.freeze(Object.entries(inject)),
    resolve: options.resolve as Dependency<T>['resolve'],
    teardown: options.teardown,
  };
  return Object.freeze(dependency);
}

/**
 * A dependency cycle: `a -> b -> a`. Thrown when a route is registered (and, for
 * cycles introduced by overrides, when one is resolved).
 */
export class DependencyCycleError extends Error {
  /** Stable code. */
  static readonly code = 'ERR_DEPENDENCY_CYCLE';
  /** Stable code. */
  readonly code = DependencyCycleError.code;
  /** The names along the cycle, the first repeated at the end. */
  readonly cycle: readonly string[];
  constructor(cycle: readonly string[]) {
    super(`Dependency cycle: ${cycle.join(' -> ')}. Break it by removing one of these injections.`);
    this.name = 'DependencyCycleError';
    this.cycle = cycle;
  }
}

/**
 * The first cycle through injections reachable from `root`, as the names along it (the
 * first repeated at the end), with `overrides` applied; undefined when there is none.
 * @internal
 */
export function findCycle(
  root: AnyDependency,
  overrides: { lookup(dependency: AnyDependency): AnyDependency },
): string[] | undefined {
  const visiting: AnyDependency[] = [];
  const done = new Set<AnyDependency>();
  const visit = (dependency: AnyDependency): string[] | undefined => {
    const at = visiting.indexOf(dependency);
    if (at !== -1) return [...visiting.slice(at), dependency].map((d) => d.name);
    if (done.has(dependency)) return undefined;
    visiting.push(dependency);
    for (const [, inner] of injectEntriesOf(overrides.lookup(dependency))) {
      const cycle = visit(inner);
      if (cycle) return cycle;
    }
    visiting.pop();
    done.add(dependency);
    return undefined;
  };
  return visit(root);
}
