/**
 * The hono adapter: plugins and dependencies on any hono app, resolved values in a
 * typed `c.get(...)`, every error and unknown route as an RFC 9457 problem.
 *
 * @example
 * ```ts
 * const kit = createHonoAdapter(createToolkit());
 * const app = kit.install(new Hono());
 * kit.mount(app, routes); // framework-neutral `Route`s, written once for every adapter
 * app.get('/users/:id', kit.route({ user: currentUser }), (c) => c.json(c.get('user')));
 * app.get('/jwks', kit.endpoint(() => ({ body: keySet.jwks() })));
 * serve({ fetch: app.fetch, port: 3000 }); // @hono/node-server
 * ```
 *
 * @module \@org/core/hono
 */
import type {
  Env,
  ErrorHandler,
  Context as FrameworkContext,
  Handler,
  Hono,
  Input,
  MiddlewareHandler,
  NotFoundHandler,
  Schema,
} from 'hono';
import type { HandlerResponse, Next } from 'hono/types';
import type { Context } from '../../context/context.js';
import type { DependencyMap, ResolvedValues } from '../../dependency/dependency.js';
import { ConfigurationError } from '../../errors/configuration-error.js';
import { BadRequestError, MethodNotAllowedError, NotFoundError } from '../../errors/http-error.js';
import { asError, PROBLEM_CONTENT_TYPE, type ProblemResponse } from '../../errors/problem.js';
import { KnownRoutes } from '../../internal/known-routes.js';
import { prepareRoutes } from '../../lifecycle/mount-routes.js';
import {
  failRequest,
  type LifecycleRoute,
  type RequestSteps,
  runRoute,
  sendResult,
  startRequest,
} from '../../lifecycle/request-lifecycle.js';
import type { Reply } from '../../toolkit/plugin.js';
import type { Route } from '../../toolkit/route.js';
import { type Toolkit, toolkitRuntime } from '../../toolkit/toolkit.js';
import type { UpgradeListener } from '../../upgrade/upgrade-handler.js';
import { CONTEXT_VARIABLE, contextOf, HonoContext, problemOf } from './context.js';
import { nodeBindingsOf } from './request-view.js';
import {
  type HonoUpgradeListenerOptions,
  type HonoUpgradeWebSocket,
  type HonoWebSocketEvents,
  type HonoWebSocketOptions,
  type HonoWebSocketServer,
  type HonoWSContext,
  honoUpgradeListener,
  upgradeWebSocketRoute,
  type WebSocketRouteEnv,
} from './websocket.js';

export type {
  WebSocketExpiryOptions,
  WebSocketLike,
} from '../../upgrade/connection.js';
export type {
  UpgradeListener,
  WebSocketServerLike,
} from '../../upgrade/upgrade-handler.js';
export type {
  HonoUpgradeListenerOptions,
  HonoUpgradeWebSocket,
  HonoWebSocketEvents,
  HonoWebSocketOptions,
  HonoWebSocketServer,
  HonoWSContext,
  WebSocketRouteEnv,
};

/** What `@hono/node-server` could not read as a request (its `RequestError`). */
const UNREADABLE_REQUEST = new BadRequestError({
  detail: 'The request target or Host cannot be read as a URL.',
});

/** A problem as a Fetch API Response, for errors no hono context exists for. */
function problemResponse(problem: ProblemResponse): Response {
  return new Response(JSON.stringify(problem.body), {
    status: problem.status,
    headers: {
      ...problem.headers,
      'content-type': PROBLEM_CONTENT_TYPE,
      'x-content-type-options': 'nosniff',
    },
  });
}

/** A framework-neutral handler for {@link HonoAdapter.endpoint}; undefined sends 204. */
export type HonoEndpoint<E extends Env = Env> = (
  ctx: Context,
  c: FrameworkContext<E>,
) => Reply | undefined | Promise<Reply | undefined>;

/** What {@link createHonoAdapter} returns. */
export interface HonoAdapter {
  /** For `app.onError`: any error as a problem, keeping the headers set before it. */
  readonly errorHandler: ErrorHandler;
  /** For `app.notFound`: a 404 problem that never echoes the path. */
  readonly notFound: NotFoundHandler;
  /**
   * For `@hono/node-server`'s `getRequestListener(app.fetch, { errorHandler })`: a request
   * node-server cannot turn into a `Request` (an asterisk-form or refused absolute target,
   * a backslash in the path, a `Host` that does not parse) is answered as a 400 problem
   * instead of node-server's bodiless 400; any other error as the toolkit's problem.
   * (`serve` and `createAdaptorServer` do not pass the option on.)
   *
   * @example
   * ```ts
   * import { createServer } from 'node:http';
   * import { getRequestListener } from '@hono/node-server';
   * const server = createServer(getRequestListener(app.fetch, { errorHandler: kit.requestErrorHandler }));
   * ```
   */
  readonly requestErrorHandler: (error: unknown) => Response;
  /**
   * Attaches the toolkit to a new `app` and returns it: a middleware on `*` gives every
   * request its context and runs the plugins (404s and routes without the adapter
   * included), and the error and 404 handlers become the adapter's; a known path asked
   * with another method is answered 405 with `Allow`. Hono runs handlers in the order
   * they were added, so call it before adding any route or middleware (it throws
   * otherwise).
   */
  install<E extends Env, S extends Schema, B extends string>(app: Hono<E, S, B>): Hono<E, S, B>;
  /**
   * Registers framework-neutral {@link Route}s on an {@link HonoAdapter.install}ed app and
   * records them in `toolkit.routes` for the OpenAPI document (a `basePath` is not seen).
   *
   * @example
   * ```ts
   * const app = kit.install(new Hono());
   * kit.mount(app, [defineRoute({ method: 'GET', path: '/users/me', dependencies: { user: currentUser },
   *   handler: (_ctx, { user }) => ({ body: user }) })]);
   * ```
   */
  mount<E extends Env, S extends Schema, B extends string>(
    app: Hono<E, S, B>,
    routes: readonly Route[],
  ): Hono<E, S, B>;
  /**
   * Route middleware: resolves `dependencies` once per request and `c.set`s each value
   * under its key, so `c.get('user')` is typed. Cycles are found here, at start-up.
   *
   * @example
   * ```ts
   * app.get('/users/me', kit.route({ user: currentUser }), (c) => c.json(c.get('user')));
   * ```
   */
  route<M extends DependencyMap>(dependencies: M): MiddlewareHandler<RouteEnv<M>>;
  /**
   * The same with the handler inside: one function on the route instead of two, which
   * spares hono its middleware chain (an async step per request). `handler` sees the
   * same typed `c.get(...)`.
   *
   * @example
   * ```ts
   * app.get('/users/me', kit.route({ user: currentUser }, (c) => c.json(c.get('user'))));
   * ```
   */
  route<M extends DependencyMap, R extends HandlerResponse<unknown>>(
    dependencies: M,
    handler: (c: FrameworkContext<RouteEnv<M>>) => R,
  ): Handler<RouteEnv<M>, string, Input, R>;
  /** A hono handler that runs a framework-neutral one and sends its {@link Reply}. */
  endpoint<E extends Env = Env>(handler: HonoEndpoint<E>): Handler<E>;
  /**
   * Route middleware around hono's `upgradeWebSocket` helper (`@hono/node-ws`): the
   * toolkit's plugins (rate limits) already ran in the adapter's middleware, and the
   * `dependencies` (`auth.currentUser`, `requireRoles`, API keys through `auth.principal`)
   * are resolved before the helper is called, so a refused upgrade is the route's problem
   * (401, 403, 429 with `Retry-After`...) and `events` is never called. The values are
   * `c.set` under their names, as with {@link HonoAdapter.route}, and passed to `events`.
   * The accepted connection is closed with 1008 when its credentials expire, a throw or
   * rejection of an event handler is reported to the toolkit's error hooks and closes it
   * with 1011, and a `GET` without `Upgrade: websocket` gets a 400 problem. Serve the
   * upgrades with {@link HonoAdapter.upgradeListener} (not `injectWebSocket`, which sends a
   * refusal's status line only).
   *
   * @example
   * ```ts
   * import { createNodeWebSocket } from '@hono/node-ws';
   * const app = kit.install(new Hono());
   * const { upgradeWebSocket, wss } = createNodeWebSocket({ app });
   * app.get('/ws', kit.upgradeWebSocket(upgradeWebSocket, {
   *   dependencies: { user: auth.currentUser },
   *   events: (_c, { user }) => ({
   *     onOpen: (_event, ws) => ws.send(JSON.stringify({ type: 'hello', sub: user.id })),
   *     onMessage: (event, ws) => ws.send(String(event.data)),
   *   }),
   * }));
   * const server = serve({ fetch: app.fetch, port: 3000 });
   * server.on('upgrade', kit.upgradeListener({ app, webSocketServer: wss }));
   * ```
   */
  upgradeWebSocket<M extends DependencyMap, T, U>(
    upgradeWebSocket: HonoUpgradeWebSocket<T, U>,
    options: HonoWebSocketOptions<M, T, U>,
  ): MiddlewareHandler<WebSocketRouteEnv<M>>;
  /**
   * The `upgrade` listener for a node server serving {@link HonoAdapter.upgradeWebSocket}
   * routes, in place of `@hono/node-ws`'s `injectWebSocket(server)`: it dispatches each
   * upgrade through `app.fetch` with the request as `env.incoming`, writes a refused one's
   * whole Response (status, headers, problem body) on the socket with `Connection: close`,
   * and hands an accepted one to `webSocketServer` (the `101` carries the headers plugins
   * set). Not both: each would dispatch every upgrade.
   *
   * @example
   * ```ts
   * const { upgradeWebSocket, wss } = createNodeWebSocket({ app });
   * const server = serve({ fetch: app.fetch, port: 3000 });
   * server.on('upgrade', kit.upgradeListener({ app, webSocketServer: wss }));
   * ```
   */
  upgradeListener(options: HonoUpgradeListenerOptions): UpgradeListener;
  /** The toolkit context of a request. Throws when the app was not {@link HonoAdapter.install}ed. */
  context(c: FrameworkContext): Context;
}

/** The hono environment of a route with `dependencies`: their resolved values as variables. */
export type RouteEnv<M extends DependencyMap> = {
  /** The resolved value of each dependency, read with `c.get(name)`. */
  Variables: ResolvedValues<M>;
};

/** The apps a hono adapter is installed on. */
const installed = new WeakSet<object>();

/** Hono hands `app.onError` only `Error`s: a route's other throws come back to the middleware as one. */
function rethrowAsError(thrown: unknown): never {
  throw asError(thrown);
}

/**
 * Creates the hono adapter over a toolkit (see the module example).
 *
 * @example
 * ```ts
 * const kit = createHonoAdapter(toolkit);
 * const app = kit.install(new Hono()); // middleware on `*`, onError, notFound: before the routes
 * app.post('/posts', kit.route({ input: requestBody(NewPost) }), (c) => c.json(c.get('input'), 201));
 * ```
 */
export function createHonoAdapter(toolkit: Toolkit): HonoAdapter {
  const runtime = toolkitRuntime(toolkit);
  /** The request's context, given the route hono matched. */
  const enter = (c: FrameworkContext): HonoContext => {
    const ctx = contextOf(c);
    ctx.request.bindRoute();
    return ctx;
  };

  /** A plugin answered or failed: its Response becomes the request's, finalized now. */
  const answered = (ctx: HonoContext): Response => ctx.finalize(ctx.takeResponse());

  const steps: RequestSteps<HonoContext, Next, Response | Promise<undefined>> = {
    proceed: (ctx, next) =>
      next().then(() => {
        const { c } = ctx.request;
        const sent = ctx.finalize(c.res);
        // Assigning c.res makes hono copy the response: only when it had to change.
        if (sent !== c.res) c.res = sent;
        return undefined;
      }, rethrowAsError),
    fail(ctx, _next, error) {
      failRequest(ctx, error);
      return answered(ctx);
    },
    answered,
  };

  /** The adapter's middleware on `*`: the context, the plugins, hono's routing, the headers. */
  const middleware: MiddlewareHandler = (c, next) => {
    const ctx = new HonoContext(c, toolkit, nodeBindingsOf(c.env));
    c.set(CONTEXT_VARIABLE, ctx);
    // Not an async function: that would wrap the lifecycle's promise in another one, and
    // adopting it costs two more microtask turns per request. Promise.resolve returns a
    // native promise as it is.
    return Promise.resolve(startRequest(ctx, next, steps));
  };

  const kit: HonoAdapter = {
    errorHandler: (error, c) => problemOf(c, error, runtime),
    requestErrorHandler: (error) =>
      problemResponse(
        runtime.renderError(
          (error as Error | null)?.name === 'RequestError' ? UNREADABLE_REQUEST : error,
          undefined,
        ),
      ),
    notFound: (c) =>
      problemOf(c, new NotFoundError({ detail: 'No route matches this request.' }), runtime),
    install(app) {
      if (installed.has(app)) {
        // A second middleware would run every plugin twice per request.
        throw new ConfigurationError(
          'kit.install(app): this hono app already has a toolkit installed; install one per app, once.',
        );
      }
      if (app.routes.length > 0) {
        // Hono runs handlers in the order they were added: routes added before the
        // adapter's middleware would answer without it.
        throw new ConfigurationError(
          'kit.install(app): call it on a new app, before adding routes or middleware.',
        );
      }
      installed.add(app);
      app.use('*', middleware);
      app.onError(kit.errorHandler);
      // The methods hono serves for a path, from the app's public route list.
      const known = new KnownRoutes();
      app.notFound((c) => {
        const allow = known
          .sync(app.routes.length, () => app.routes)
          .allowed(c.req.method, new URL(c.req.url).pathname);
        return allow === undefined
          ? kit.notFound(c)
          : problemOf(c, new MethodNotAllowedError({ allow }), runtime);
      });
      return app;
    },
    mount(app, routes) {
      if (!installed.has(app)) {
        throw new ConfigurationError('kit.mount(app): call kit.install(app) on it first.');
      }
      for (const { method, path, lifecycle } of prepareRoutes(toolkit, routes)) {
        const handle: Handler = (c) => {
          const ctx = enter(c);
          const sent = runRoute(ctx, lifecycle, undefined);
          return sent instanceof Promise ? sent.then(() => ctx.takeResponse()) : ctx.takeResponse();
        };
        app.on(method, path, handle);
      }
      return app;
    },
    route: ((dependencies: DependencyMap, handler?: (c: FrameworkContext) => unknown) => {
      const names = Object.keys(dependencies);
      const route: LifecycleRoute<HonoContext, Next | undefined, unknown> = {
        entries: runtime.prepareRoute(dependencies).entries,
        call(ctx, next, values) {
          const { c } = ctx.request;
          for (const name of names) c.set(name, values[name]);
          return next === undefined ? handler?.(c) : next();
        },
      };
      if (handler !== undefined)
        return (c: FrameworkContext) => runRoute(enter(c), route, undefined);
      const middleware: MiddlewareHandler = async (c, next) => {
        await runRoute(enter(c), route, next);
      };
      return middleware;
    }) as HonoAdapter['route'],
    endpoint<E extends Env>(handler: HonoEndpoint<E>): Handler<E> {
      return async (c) => {
        const ctx = contextOf(c);
        // Without kit.route in front, the route becomes known here.
        if (!ctx.request.bound) ctx.request.bindRoute();
        await sendResult(ctx, handler(ctx, c));
        return ctx.takeResponse();
      };
    },
    upgradeWebSocket: (upgradeWebSocket, options) =>
      upgradeWebSocketRoute(toolkit, upgradeWebSocket, options),
    upgradeListener: (options) => honoUpgradeListener(toolkit, options),
    context: contextOf,
  };
  return kit;
}
