// What every adapter's `mount` shares: a Route checked and prepared once, recorded on the
// toolkit for the OpenAPI document, and run by the one lifecycle (runRoute + sendResult).

import type { Context } from '../context/context.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import { deadlineOption } from '../options/check-options.js';
import type { Reply } from '../toolkit/plugin.js';
import type { Route, RouteMethod } from '../toolkit/route.js';
import { recordRoute, type Toolkit, toolkitRuntime } from '../toolkit/toolkit.js';
import type { AdapterContext } from './adapter-context.js';
import { callHandler, type LifecycleRoute, sendResult } from './request-lifecycle.js';

const METHODS: ReadonlySet<string> = new Set<RouteMethod>([
  'GET',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
]);

/** A {@link Route} ready for an adapter to register with its framework. */
export interface MountedRoute {
  /** The HTTP method. */
  readonly method: RouteMethod;
  /** The route's own template, as the framework takes it (without `prefix`). */
  readonly path: string;
  /** Resolves the dependencies, runs the handler and sends its reply (undefined: 204). */
  readonly lifecycle: LifecycleRoute<AdapterContext, unknown, void | Promise<void>>;
}

/**
 * Checks each route and its dependency graph once, records it on the toolkit (its path
 * behind `prefix`, when the framework adds one) and returns what the adapter registers.
 *
 * @throws A {@link ConfigurationError} for a method, path or handler no adapter can mount,
 *   or a toolkit not made by `createToolkit`; a `DependencyCycleError` for a cycle among
 *   the dependencies.
 * @example
 * ```ts
 * for (const { method, path, lifecycle } of prepareRoutes(toolkit, routes)) {
 *   router.on(method, path, (request) => runRoute(contextOf(request), lifecycle, undefined));
 * }
 * ```
 */
export function prepareRoutes(
  toolkit: Toolkit,
  routes: readonly Route[],
  prefix = '',
): MountedRoute[] {
  const runtime = toolkitRuntime(toolkit);
  return routes.map((route) => {
    const { method, path } = route;
    if (!METHODS.has(method) || typeof path !== 'string' || !path.startsWith('/')) {
      throw new ConfigurationError(
        `mount(): ${String(method)} ${String(path)} needs a method among ${[...METHODS].join(', ')} and a path starting with "/".`,
      );
    }
    if (typeof route.handler !== 'function') {
      throw new ConfigurationError(`mount(): ${method} ${path} has no handler function.`);
    }
    const { entries } = runtime.prepareRoute(route.dependencies ?? {});
    const deadlineMs =
      deadlineOption(`mount(): ${method} ${path}`, route.deadlineMs) ?? runtime.deadlineMs;
    recordRoute(toolkit, prefix === '' ? route : { ...route, path: prefix + path });
    return {
      method,
      path,
      lifecycle: {
        entries,
        ...(deadlineMs === false || deadlineMs === undefined ? {} : { deadlineMs }),
        call: (ctx, _arg, values) => sendResult(ctx, callHandler(ctx, route, values)),
      },
    };
  });
}

/**
 * An endpoint (`kit.endpoint(handler)`) as the lifecycle runs it: no dependencies, not
 * even the app's, and the handler's reply sent (undefined: 204).
 */
export function endpointRoute(
  handler: (ctx: Context) => Reply | undefined | Promise<Reply | undefined>,
): LifecycleRoute<AdapterContext, unknown, void | Promise<void>> {
  return { entries: [], call: (ctx) => sendResult(ctx, handler(ctx)) };
}
