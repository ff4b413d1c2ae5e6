/**
 * The plain `node:http` adapter: a small router whose handlers are framework-neutral
 * endpoints, so a `node:http` service is as first-class as any framework.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createToolkit } from '@org/core';
 * import { createNodeAdapter } from '@org/core/node';
 *
 * const app = createNodeAdapter(createToolkit());
 * app.get('/users/:id', { user: currentUser }, (ctx, { user }) => ({ body: user }));
 * app.mount(routes); // the same `Route`s every adapter mounts
 * createServer(app.handler).listen(3000);
 * ```
 *
 * @module \@org/core/node
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DependencyMap } from '../../dependency/dependency.js';
import { MethodNotAllowedError, NotFoundError } from '../../errors/http-error.js';
import { BufferedNodeContext, RawHeadersRequestView } from '../../internal/node-request.js';
import { prepareRoutes } from '../../lifecycle/mount-routes.js';
import {
  callHandler,
  failRequest,
  type LifecycleRoute,
  type RequestSteps,
  runRoute,
  sendResult,
  startRequest,
} from '../../lifecycle/request-lifecycle.js';
import type { Route, RouteHandler } from '../../toolkit/route.js';
import { type Toolkit, toolkitRuntime } from '../../toolkit/toolkit.js';
import { Router } from './router.js';

/** A node route handler: the framework-neutral {@link RouteHandler}. */
export type NodeHandler<M extends DependencyMap> = RouteHandler<M>;

/** A registered route: its dependencies and the handler, called by the lifecycle. */
type RouteEntry = LifecycleRoute<BufferedNodeContext, undefined, void | Promise<void>>;

/** A `node:http` app: register routes, then pass {@link NodeApp.handler} to `createServer`. */
export interface NodeApp {
  /** The request listener for `http.createServer`. */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * Registers framework-neutral {@link Route}s (the same ones every adapter's `mount`
   * takes) and records them in `toolkit.routes` for the OpenAPI document.
   *
   * @example
   * ```ts
   * const app = createNodeAdapter(toolkit).mount([
   *   defineRoute({ method: 'GET', path: '/users/me', dependencies: { user: currentUser },
   *     handler: (_ctx, { user }) => ({ body: user }) }),
   * ]);
   * ```
   */
  mount(routes: readonly Route[]): NodeApp;
  /** Registers a route for any method. */
  route<M extends DependencyMap>(
    method: string,
    template: string,
    dependencies: M,
    handler: NodeHandler<M>,
  ): NodeApp;
  /** Registers a GET route (HEAD is answered too). */
  get<M extends DependencyMap>(template: string, dependencies: M, handler: NodeHandler<M>): NodeApp;
  /** Registers a POST route. */
  post<M extends DependencyMap>(
    template: string,
    dependencies: M,
    handler: NodeHandler<M>,
  ): NodeApp;
  /** Registers a PUT route. */
  put<M extends DependencyMap>(template: string, dependencies: M, handler: NodeHandler<M>): NodeApp;
  /** Registers a PATCH route. */
  patch<M extends DependencyMap>(
    template: string,
    dependencies: M,
    handler: NodeHandler<M>,
  ): NodeApp;
  /** Registers a DELETE route. */
  delete<M extends DependencyMap>(
    template: string,
    dependencies: M,
    handler: NodeHandler<M>,
  ): NodeApp;
}

/**
 * Creates a `node:http` app over a toolkit: plugins run for every request, routes
 * resolve their dependencies, errors and unknown routes answer with problems.
 *
 * @example
 * ```ts
 * const app = createNodeAdapter(toolkit)
 *   .get('/healthz', {}, () => ({ body: { status: 'pass' } }))
 *   .post('/posts', { input: requestBody(NewPost), user: auth.currentUser }, async (_ctx, { input, user }) => ({
 *     status: 201,
 *     body: await posts.create(user.id, input),
 *   }))
 *   .delete('/posts/:id', { user: auth.currentUser }, async (ctx) => {
 *     await posts.remove(ctx.request.params.id); // an undefined result sends 204
 *   });
 * createServer(app.handler).listen(3000);
 * ```
 */
export function createNodeAdapter(toolkit: Toolkit): NodeApp {
  const runtime = toolkitRuntime(toolkit);
  const router = new Router<RouteEntry>();

  /** No plugin answered: route the request, or answer 404 / 405. */
  function routeTo(ctx: BufferedNodeContext): void | Promise<void> {
    const view = ctx.request;
    const match = router.match(view.method, view.path);
    if (match === undefined) throw new NotFoundError({ detail: 'No route matches this request.' });
    if ('allow' in match) throw new MethodNotAllowedError({ allow: match.allow });
    view.route = match.template;
    view.params = match.params;
    return runRoute(ctx, match.handler, undefined);
  }

  const steps: RequestSteps<BufferedNodeContext, undefined, void> = {
    proceed(ctx) {
      try {
        routeTo(ctx)?.catch((error: unknown) => failRequest(ctx, error));
      } catch (error) {
        failRequest(ctx, error);
      }
    },
    fail: (ctx, _arg, error) => failRequest(ctx, error),
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const ctx = new BufferedNodeContext(new RawHeadersRequestView(req, toolkit), res, toolkit);
    void startRequest(ctx, undefined, steps);
  };

  const app: NodeApp = {
    handler,
    mount(routes) {
      for (const { method, path, lifecycle } of prepareRoutes(toolkit, routes)) {
        router.add(method, path, lifecycle);
      }
      return app;
    },
    route(method, template, dependencies, routeHandler) {
      const target = { handler: routeHandler as NodeHandler<DependencyMap> };
      router.add(method, template, {
        entries: runtime.prepareRoute(dependencies).entries,
        ...(runtime.deadlineMs === undefined ? {} : { deadlineMs: runtime.deadlineMs }),
        call: (ctx, _arg, values) => sendResult(ctx, callHandler(ctx, target, values)),
      });
      return app;
    },
    get: (template, dependencies, h) => app.route('GET', template, dependencies, h),
    post: (template, dependencies, h) => app.route('POST', template, dependencies, h),
    put: (template, dependencies, h) => app.route('PUT', template, dependencies, h),
    patch: (template, dependencies, h) => app.route('PATCH', template, dependencies, h),
    delete: (template, dependencies, h) => app.route('DELETE', template, dependencies, h),
  };
  return app;
}
