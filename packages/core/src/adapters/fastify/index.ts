/**
 * The fastify adapter: one app-wide plugin that runs the toolkit's plugins on every
 * request, answers every error and unknown route with an RFC 9457 problem and reads
 * bodies with the toolkit's limits, plus `kit.route`, which resolves dependencies onto
 * `request` (`request.user`), typed.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { createToolkit } from '@org/core';
 * import { createFastifyAdapter } from '@org/core/fastify';
 *
 * const kit = createFastifyAdapter(createToolkit());
 * const app = Fastify({ ...kit.serverOptions }); // parser and routing errors as problems too
 * await app.register(kit.plugin);
 * kit.mount(app, routes); // framework-neutral `Route`s, written once for every adapter
 * app.get('/users/:id', kit.route({ user: currentUser }, async (request) => request.user));
 * app.get('/jwks', kit.endpoint(() => ({ body: keys.jwks() })));
 * await app.listen({ port: 3000 });
 * ```
 *
 * @module \@org/core/fastify
 */
import type {
  FastifyError,
  FastifyInstance,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  FastifyServerOptions,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteGenericInterface,
  RouteHandlerMethod,
} from 'fastify';
import type { Context } from '../../context/context.js';
import type { DependencyMap, ResolvedValues } from '../../dependency/dependency.js';
import { clientErrorHandler } from '../../errors/client-error.js';
import { ConfigurationError } from '../../errors/configuration-error.js';
import { MethodNotAllowedError, NotFoundError } from '../../errors/http-error.js';
import { asError } from '../../errors/problem.js';
import { KnownRoutes } from '../../internal/known-routes.js';
import { endpointRoute, prepareRoutes } from '../../lifecycle/mount-routes.js';
import {
  failRequest,
  type LifecycleRoute,
  type RequestSteps,
  runRoute,
  startRequest,
  writeProblem,
} from '../../lifecycle/request-lifecycle.js';
import type { Reply } from '../../toolkit/plugin.js';
import type { Route } from '../../toolkit/route.js';
import { type Toolkit, toolkitRuntime } from '../../toolkit/toolkit.js';
import {
  checkDependencyNames,
  contextOf,
  FastifyContext,
  fromValidationError,
  lifecycleHandler,
  pathOf,
  replyWriter,
} from './context.js';
import {
  type FastifyWebSocket,
  type FastifyWebSocketHandler,
  type FastifyWebSocketOptions,
  type FastifyWebSocketRoute,
  webSocketRoute,
} from './websocket.js';

export type {
  WebSocketExpiryOptions,
  WebSocketLike,
} from '../../upgrade/connection.js';
export type {
  FastifyWebSocket,
  FastifyWebSocketHandler,
  FastifyWebSocketOptions,
  FastifyWebSocketRoute,
};

/** Whether `@fastify/websocket` serves `route` (`websocket: true` or a `wsHandler`). */
function isWebSocketRoute(route: object): boolean {
  const { websocket, wsHandler } = route as { websocket?: unknown; wsHandler?: unknown };
  return websocket === true || typeof wsHandler === 'function';
}

/** Fastify's continuation of a hook. */
type Done = (error?: FastifyError) => void;

declare module 'fastify' {
  interface FastifyRequest {
    /** The toolkit context of this request, set by the adapter's plugin before any route runs. */
    toolkitContext: Context;
  }
}

/** A fastify handler for the route generic `G`, as `app.get` expects it. */
export type FastifyRouteHandler<G extends RouteGenericInterface = RouteGenericInterface> =
  RouteHandlerMethod<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, G>;

/** A handler of {@link FastifyAdapter.route}: fastify's own, with the resolved values on `request`. */
export type FastifyDependentHandler<
  M extends DependencyMap,
  G extends RouteGenericInterface = RouteGenericInterface,
> = (
  this: FastifyInstance,
  request: FastifyRequest<G> & ResolvedValues<M>,
  reply: FastifyReply<G>,
) => ReturnType<FastifyRouteHandler<G>>;

/** The fastify adapter of one toolkit. Create it with {@link createFastifyAdapter}. */
export interface FastifyAdapter {
  /**
   * Register it before any route (`await app.register(kit.plugin)`). It applies app-wide:
   * it sets the error and not-found handlers of the root instance, so set your own only
   * in child plugins, and it replaces every content-type parser so bodies are read with
   * the toolkit's limits; `request.body` is filled only for routes with a fastify body
   * schema, others read the body through `requestBody(schema)`.
   */
  readonly plugin: FastifyPluginCallback;
  /**
   * Registers framework-neutral {@link Route}s on an instance with the plugin (the root,
   * or a child plugin: its prefix is kept) and records them in `toolkit.routes` for the
   * OpenAPI document.
   *
   * @example
   * ```ts
   * await app.register(kit.plugin);
   * kit.mount(app, [defineRoute({ method: 'GET', path: '/users/me', dependencies: { user: currentUser },
   *   handler: (_ctx, { user }) => ({ body: user }) })]);
   * ```
   */
  mount(instance: FastifyInstance, routes: readonly Route[]): FastifyInstance;
  /**
   * Wraps a handler so `dependencies` are resolved once per request and assigned onto
   * `request` under their names, typed. Give names a fastify request does not already
   * use (`body`, `params`, ...): those throw a {@link ConfigurationError} here.
   */
  route<M extends DependencyMap, G extends RouteGenericInterface = RouteGenericInterface>(
    dependencies: M,
    handler: FastifyDependentHandler<M, G>,
  ): FastifyRouteHandler<G>;
  /** Mounts a framework-neutral handler: it receives the context and returns a {@link Reply}. */
  endpoint(handler: (ctx: Context) => Reply | Promise<Reply>): FastifyRouteHandler;
  /**
   * A WebSocket route for `@fastify/websocket`: its plugin dispatches each upgrade through
   * fastify's routing and hooks, so the toolkit's plugins (rate limits) run on it as on a
   * request, and the route's `preHandler` resolves `dependencies` (`auth.currentUser`,
   * `requireRoles`, API keys through `auth.principal`) before the `101`. A refusal is the
   * route's problem (401, 403, 429 with `Retry-After`...), written on the upgrade's socket,
   * and `handler` is never called. An accepted connection gets an `'error'` listener (a
   * peer's bad frame never ends the process), is closed with 1008 when its credentials
   * expire (see `options`), and a throw or rejection of `handler` is reported to the
   * toolkit's error hooks and closes it with 1011. A plain `GET` gets a 400 problem.
   * Register `@fastify/websocket` before `kit.plugin` (its `onRequest` hook must mark an
   * upgrade before a plugin refuses it, or the socket stays open; a WebSocket route
   * throws a {@link ConfigurationError} otherwise), with
   * `options: { handleProtocols: webSocketProtocols() }` so a browser's
   * `Sec-WebSocket-Protocol: bearer, <token>` is answered `bearer`, never the token.
   *
   * @example
   * ```ts
   * import fastifyWebsocket from '@fastify/websocket';
   * await app.register(fastifyWebsocket, { options: { handleProtocols: webSocketProtocols() } });
   * await app.register(kit.plugin);
   * app.get('/ws', kit.webSocket({ user: auth.currentUser }, (socket, _request, { user }) => {
   *   socket.send(JSON.stringify({ type: 'hello', sub: user.id }));
   *   socket.on('message', (data) => socket.send(String(data)));
   * }));
   * ```
   */
  webSocket<M extends DependencyMap>(
    dependencies: M,
    handler: FastifyWebSocketHandler<M>,
    options?: FastifyWebSocketOptions<M>,
  ): FastifyWebSocketRoute;
  /** The toolkit context of a request; throws a {@link ConfigurationError} when the plugin is not registered. */
  context(request: FastifyRequest): Context;
  /**
   * Options for the fastify factory, for the errors fastify answers before any plugin
   * runs, which the plugin cannot reach: `clientErrorHandler` (requests Node's HTTP parser
   * rejects, see {@link clientErrorHandler}) and `frameworkErrors` (a malformed URL, a
   * path parameter over `maxParamLength`; fastify's own answers quote the path). With
   * them these are RFC 9457 problems too.
   *
   * @example
   * ```ts
   * const kit = createFastifyAdapter(toolkit);
   * const app = Fastify({ ...kit.serverOptions, logger: true });
   * await app.register(kit.plugin);
   * ```
   */
  readonly serverOptions: Pick<FastifyServerOptions, 'clientErrorHandler' | 'frameworkErrors'>;
}

/**
 * Creates the fastify adapter of a toolkit.
 *
 * @example
 * ```ts
 * const kit = createFastifyAdapter(toolkit);
 * await app.register(kit.plugin);
 * app.delete('/users/:id', kit.route({ admin: requireRoles('admin') }, (request, reply) => reply.code(204).send()));
 * ```
 */
export function createFastifyAdapter(toolkit: Toolkit): FastifyAdapter {
  const runtime = toolkitRuntime(toolkit);
  const knownRoutes = new KnownRoutes();
  const notFound = (request: FastifyRequest) => {
    const allow = knownRoutes.allowed(request.method, pathOf(request.url));
    if (allow !== undefined) throw new MethodNotAllowedError({ allow });
    throw new NotFoundError({ detail: 'No route matches this request.' });
  };

  // Plugins' failures go to fastify's error handling, `onError` below or a child's own.
  const steps: RequestSteps<FastifyContext, Done, void> = {
    proceed: (_ctx, done) => done(),
    // Fastify takes a falsy done(error) for no error at all: the route would run.
    fail: (_ctx, done, error) => done(asError(error) as FastifyError),
  };

  function onRequest(request: FastifyRequest, reply: FastifyReply, done: Done): void {
    const ctx = new FastifyContext(request, reply, toolkit);
    if (!request.is404) {
      // Fastify routes before hooks run: plugins already see the template.
      ctx.request.route = request.routeOptions.url;
      ctx.request.params = request.params as Readonly<Record<string, string>>;
    }
    request.toolkitContext = ctx;
    // done() inside the async context: the rest of fastify's lifecycle runs in it.
    startRequest(ctx, done, steps);
  }

  function onError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
    const ctx = (request.toolkitContext as FastifyContext | null) ?? undefined;
    const shown = fromValidationError(error) ?? error;
    if (ctx !== undefined) failRequest(ctx, error, shown);
    else writeProblem(replyWriter(reply), runtime.renderError(shown, undefined));
  }

  const plugin: FastifyPluginCallback = (instance, _options, done) => {
    // Declared up front for a stable request shape; onRequest sets it before anything reads it.
    instance.decorateRequest('toolkitContext', null as unknown as Context);
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser('*', (request, _payload, parsed) => {
      // The stream stays unread until a dependency asks for the body; only a route with
      // its own fastify body schema needs it now, read with the same limits.
      if (request.routeOptions.schema?.body === undefined) return parsed(null, undefined);
      contextOf(request)
        .request.body()
        .then((body) => parsed(null, body), parsed);
    });
    instance.addHook('onRequest', onRequest);
    instance.setErrorHandler(onError);
    instance.setNotFoundHandler(notFound);
    // @fastify/websocket closes a refused upgrade's socket only when its own onRequest
    // hook marked the request; this plugin's would answer first, leaving the socket open.
    const webSocketsFirst = instance.hasRequestDecorator('ws');
    instance.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) knownRoutes.add(method, route.url);
      if (!webSocketsFirst && isWebSocketRoute(route)) {
        throw new ConfigurationError(
          `The WebSocket route ${route.url} needs @fastify/websocket registered before kit.plugin: \`await app.register(fastifyWebsocket); await app.register(kit.plugin);\`.`,
        );
      }
    });
    done();
  };
  Object.assign(plugin, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: '@org/core/fastify',
  });

  return {
    plugin,
    serverOptions: {
      clientErrorHandler,
      // No toolkit context exists yet (routing failed before onRequest): a problem by the
      // error's status, without the path fastify would quote.
      frameworkErrors: (error, _request, reply) =>
        writeProblem(replyWriter(reply), runtime.renderError(error, undefined)),
    },
    mount(instance, routes) {
      for (const { method, path, lifecycle } of prepareRoutes(toolkit, routes, instance.prefix)) {
        instance.route({ method, url: path, handler: lifecycleHandler(lifecycle) });
      }
      return instance;
    },
    route<M extends DependencyMap, G extends RouteGenericInterface>(
      dependencies: M,
      handler: FastifyDependentHandler<M, G>,
    ): FastifyRouteHandler<G> {
      const names = Object.keys(dependencies);
      checkDependencyNames(names);
      // Fastify's route generics only matter to callers: the values are assigned here.
      const call = handler as unknown as (...args: unknown[]) => unknown;
      const route: LifecycleRoute<FastifyContext, FastifyInstance, unknown> = {
        entries: runtime.prepareRoute(dependencies).entries,
        call(ctx, self, values) {
          const target = ctx.fastifyRequest as unknown as Record<string, unknown>;
          for (const name of names) target[name] = values[name];
          return call.call(self, ctx.fastifyRequest, ctx.reply);
        },
      };
      return function (this: FastifyInstance, request: FastifyRequest) {
        return runRoute(contextOf(request), route, this);
      } as unknown as FastifyRouteHandler<G>;
    },
    endpoint: (handler) => lifecycleHandler(endpointRoute(handler)),
    webSocket: (dependencies, handler, options) =>
      webSocketRoute(toolkit, dependencies, handler, options),
    context: contextOf,
  };
}
