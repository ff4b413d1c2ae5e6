import type { Context } from '../context/context.js';
import type { DependencyMap, ResolvedValues } from '../dependency/dependency.js';
import type { OpenApiRoute } from '../openapi/create-openapi-document.js';
import type { Reply } from './plugin.js';

/** The methods a {@link Route} can answer; HEAD is answered for every GET by each framework. */
export type RouteMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * A framework-neutral handler: the request's context and the resolved value of each
 * dependency by name, typed from the route's dependencies. Undefined sends 204.
 *
 * @example
 * ```ts
 * const showMe: RouteHandler<{ user: typeof currentUser }> = (_ctx, { user }) => ({ body: user });
 * ```
 */
export type RouteHandler<M extends DependencyMap> = (
  ctx: Context,
  values: ResolvedValues<M>,
) => Reply | undefined | Promise<Reply | undefined>;

/**
 * Runs around a framework-neutral route's handler for one request, registered by a
 * dependency with `ctx.interceptHandler`: `proceed` runs the handler (and any later
 * interceptor) and resolves to its reply (undefined: 204); what the interceptor resolves
 * to is sent instead. Not calling `proceed` answers without running the handler.
 *
 * @example
 * ```ts
 * const cached: HandlerInterceptor = async (proceed) => stored ?? (await proceed());
 * ```
 */
export type HandlerInterceptor = (
  proceed: () => Promise<Reply | undefined>,
) => Promise<Reply | undefined>;

/**
 * A route written once and mounted on any adapter (`kit.mount(app, routes)`, or
 * `app.mount(routes)` on `node:http`): where it lives, what it depends on, what it
 * answers, and how the OpenAPI document describes it. Declare it with {@link defineRoute},
 * which types the handler's values from the dependencies.
 *
 * @example
 * ```ts
 * const routes: Route[] = [
 *   defineRoute({ method: 'GET', path: '/users/me', dependencies: { user: currentUser },
 *     handler: (_ctx, { user }) => ({ body: user }) }),
 * ];
 * kit.mount(app, routes);
 * ```
 */
export interface Route<M extends DependencyMap = DependencyMap> extends OpenApiRoute {
  /** The HTTP method, upper case. */
  readonly method: RouteMethod;
  /** The template in `:param` form (`/users/:id`), which every adapter understands. */
  readonly path: string;
  /** Resolved once per request before the handler runs (`{}` for none). */
  readonly dependencies: M;
  /**
   * Longest time, in milliseconds, from the first dependency to the reply: past it the
   * client gets a 504 `ERR_DEADLINE_EXCEEDED` problem at once, `ctx.signal` aborts so
   * dependencies and the handler can stop their work, teardowns run with that outcome, and
   * a late reply is dropped. `false` turns the toolkit's `deadlineMs` off for this route.
   * @default the toolkit's `deadlineMs` (none unless set)
   */
  readonly deadlineMs?: number | false;
  /**
   * Answers the request with a {@link Reply} (undefined sends 204); what it throws is
   * answered as an RFC 9457 problem. A method, so a route of any dependencies is a `Route`.
   */
  handler(ctx: Context, values: ResolvedValues<M>): Reply | undefined | Promise<Reply | undefined>;
}

/**
 * Declares a {@link Route}, its handler's values typed from its dependencies (none when
 * `dependencies` is left out). Returns it frozen, ready for an adapter's `mount`.
 *
 * @example
 * ```ts
 * const deleteUser = defineRoute({
 *   method: 'DELETE',
 *   path: '/users/:id',
 *   summary: 'Delete a user',
 *   dependencies: { admin: auth.requireRoles('admin'), target: requestParams(UserIdParams) },
 *   responses: { 204: 'Deleted.', 404: 'No such user.' },
 *   handler: async (_ctx, { target }) => {
 *     await users.delete(target.id); // undefined sends 204
 *   },
 * });
 * ```
 */
export function defineRoute<M extends DependencyMap = Record<never, never>>(
  route: Omit<Route<M>, 'dependencies'> & { readonly dependencies?: M },
): Route<M> {
  return Object.freeze({ ...route, dependencies: route.dependencies ?? ({} as M) });
}
