import {
  type AnyDependency,
  type Context,
  type DependencyMap,
  defineDependency,
  type OpenApiRoute,
  type Reply,
  type ResolvedValues,
  type SchemaDependency,
} from '@org/core';

/** The methods the users API uses. */
export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/**
 * One route of the API, framework-neutral: where it lives, what it depends on, what it
 * does, and how `/openapi.json` describes it. Each framework example mounts the same
 * table with its adapter's `kit.route(...)` and reads the resolved values back from
 * the framework's own place (`req.user`, `request.user`, `ctx.state.user`, `c.get('user')`).
 */
export interface ApiRoute extends OpenApiRoute {
  readonly method: HttpMethod;
  /** Template in `:param` form, which every framework here understands. */
  readonly path: string;
  readonly dependencies: DependencyMap;
  readonly handler: (ctx: Context, values: Record<string, unknown>) => Reply | Promise<Reply>;
  /** Left out of `/openapi.json` (the docs page's own assets). */
  readonly hidden?: boolean;
}

/**
 * The 429 of the per-IP limit, which covers every route but the probes (`/healthz`,
 * `/readyz`, `/metrics`).
 */
export const tooManyRequests = {
  description: 'Too many requests from this client.',
  headers: { 'Retry-After': 'Seconds to wait.' },
} as const;

/** Declares a route with its handler typed by its dependencies. */
export function defineRoute<M extends DependencyMap>(
  route: Omit<ApiRoute, 'dependencies' | 'handler'> & {
    readonly dependencies: M;
    readonly handler: (ctx: Context, values: ResolvedValues<M>) => Reply | Promise<Reply>;
  },
): ApiRoute {
  return Object.freeze(route) as unknown as ApiRoute;
}

/**
 * Validates request input only once `guard` has passed, so a caller without a valid
 * token gets 401 (and a non-admin 403) before any 422 about the input: sibling
 * dependencies of a route start together, and validation would otherwise win the race.
 * It keeps the input's location and schema, so `/openapi.json` still documents it.
 */
export function afterGuard<T>(
  guard: AnyDependency,
  input: SchemaDependency<T>,
): SchemaDependency<T> {
  const dependency = defineDependency({
    name: input.name,
    inject: { guard },
    resolve: (ctx) => ctx.resolve(input),
  });
  return Object.freeze({ ...dependency, location: input.location, schema: input.schema });
}
