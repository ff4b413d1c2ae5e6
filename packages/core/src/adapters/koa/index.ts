/**
 * The koa adapter: one middleware that runs the toolkit's plugins and turns every
 * error into an RFC 9457 problem, and `@koa/router` route middleware that resolves
 * dependencies into `ctx.state`.
 *
 * @example
 * ```ts
 * import Router from '@koa/router';
 * import Koa from 'koa';
 * import { createToolkit } from '@org/core';
 * import { createKoaAdapter } from '@org/core/koa';
 *
 * const kit = createKoaAdapter(createToolkit());
 * const router = new Router({ prefix: '/api/v1' });
 * kit.mount(router, routes); // framework-neutral `Route`s, written once for every adapter
 * router.get('/users/:id', kit.route({ user: currentUser }, (ctx) => {
 *   ctx.body = ctx.state.user; // typed from the `currentUser` dependency
 * }));
 * router.get('/jwks', kit.endpoint(() => ({ body: keySet.jwks() })));
 * const app = new Koa();
 * app.use(kit.middleware); // first, so it sees every error
 * app.use(router.routes()).use(router.allowedMethods());
 * app.listen(3000);
 * ```
 *
 * @module \@org/core/koa
 */
import { Buffer } from 'node:buffer';
import type Router from '@koa/router';
import type { RouterMiddleware } from '@koa/router';
import type { ExtendableContext, Middleware, Next, ParameterizedContext } from 'koa';
import type { Context } from '../../context/context.js';
import type { DependencyMap, ResolvedValues } from '../../dependency/dependency.js';
import { ConfigurationError } from '../../errors/configuration-error.js';
import { HttpError, MethodNotAllowedError } from '../../errors/http-error.js';
import { normalizeError } from '../../errors/problem.js';
import { NodeContext, NodeRequestView, serializeBody } from '../../internal/node-request.js';
import { checkPathEncoding } from '../../internal/path-encoding.js';
import { endpointRoute, prepareRoutes } from '../../lifecycle/mount-routes.js';
import {
  failRequest,
  type LifecycleRoute,
  type RequestSteps,
  runRoute,
  startRequest,
} from '../../lifecycle/request-lifecycle.js';
import type { Reply } from '../../toolkit/plugin.js';
import type { Route } from '../../toolkit/route.js';
import { type Toolkit, toolkitRuntime } from '../../toolkit/toolkit.js';

/** A koa route handler whose `ctx.state` holds the resolved values of its dependencies. */
export type KoaRouteHandler<M extends DependencyMap> = RouterMiddleware<ResolvedValues<M>>;

/** A framework-neutral handler mounted with {@link KoaAdapter.endpoint}. */
export type KoaEndpoint = (ctx: Context) => Reply | Promise<Reply>;

/** What {@link createKoaAdapter} returns. */
export interface KoaAdapter {
  /**
   * The app middleware. `app.use` it before everything else: it runs the plugins,
   * answers unhandled requests with a 404 problem (never echoing the path) and
   * writes every downstream error as a problem, so koa's `onerror` never clears headers.
   */
  readonly middleware: Middleware;
  /**
   * Registers framework-neutral {@link Route}s on a `@koa/router` router and records them,
   * behind the router's prefix, in `toolkit.routes` for the OpenAPI document.
   *
   * @example
   * ```ts
   * kit.mount(router, [defineRoute({ method: 'GET', path: '/users/me', dependencies: { user: currentUser },
   *   handler: (_ctx, { user }) => ({ body: user }) })]);
   * app.use(kit.middleware).use(router.routes()).use(router.allowedMethods());
   * ```
   */
  mount<R extends Router>(router: R, routes: readonly Route[]): R;
  /**
   * Route middleware for `@koa/router`: resolves `dependencies` once per request
   * into `ctx.state`, then calls `handler`. The graph is checked once, here.
   *
   * @example
   * ```ts
   * router.get('/users/me', kit.route({ user: currentUser }, (ctx) => {
   *   ctx.body = ctx.state.user;
   * }));
   * ```
   */
  route<M extends DependencyMap>(
    dependencies: M,
    handler: KoaRouteHandler<M>,
  ): RouterMiddleware<ResolvedValues<M>>;
  /** Mounts a framework-neutral handler that returns a {@link Reply}. */
  endpoint(handler: KoaEndpoint): RouterMiddleware;
  /** The toolkit context of a koa request. Throws when `kit.middleware` did not run. */
  context(ctx: ExtendableContext): Context;
}

type AnyKoaContext = ParameterizedContext<unknown>;

/** What `@koa/router` 15 sets on the context of a matched route (the prefix is in the template). */
type RouterFields = {
  routerPath?: string;
  params?: Record<string, string>;
};

/** The context of a koa request: replies go through koa's own response. */
class KoaContext extends NodeContext {
  /** Koa's context of the request. */
  readonly koa: AnyKoaContext;
  constructor(koa: AnyKoaContext, toolkit: Toolkit) {
    super(new NodeRequestView(koa.req, toolkit, koa.originalUrl), koa.res, toolkit);
    this.koa = koa;
  }

  /** Writes a reply the koa way; a string without a content type is never sniffed as HTML. */
  override sendReply(reply: Reply): void {
    const ctx = this.koa;
    if (reply.headers) ctx.set(reply.headers);
    const payload = serializeBody(reply.body);
    const json = payload !== reply.body;
    if (payload !== undefined && !ctx.res.hasHeader('content-type')) {
      ctx.type = json ? 'json' : typeof payload === 'string' ? 'text' : 'bin';
    }
    ctx.body =
      payload === undefined || typeof payload === 'string' || Buffer.isBuffer(payload)
        ? (payload ?? null)
        : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    // After the body: koa's setter turns a null body into 204.
    ctx.status = reply.status ?? 200;
  }
}

/** The error a bodiless error status stands for (a 404 nobody handled, `allowedMethods()`'s 405). */
function statusError(ctx: AnyKoaContext): HttpError {
  // allowedMethods() answers a method no route implements (TRACE, PROPFIND) 501 with
  // `Allow`: the path is known, so it is a 405 like any other (RFC 9110 15.5.6).
  if (ctx.status === 405 || (ctx.status === 501 && ctx.response.get('allow') !== '')) {
    const allow = ctx.response.get('allow');
    return new MethodNotAllowedError({ allow: allow === '' ? [] : allow.split(/\s*,\s*/) });
  }
  // The same 501 with no `Allow`: no route has this path at all, whatever the method.
  if (ctx.status === 501) return normalizeError({ status: 404 });
  return ctx.status < 500 ? normalizeError({ status: ctx.status }) : new HttpError(ctx.status);
}

/**
 * Creates the koa adapter over a toolkit (see the module example).
 *
 * @example
 * ```ts
 * const kit = createKoaAdapter(toolkit);
 * app.use(kit.middleware); // before every other middleware and the router
 * router.post('/posts', kit.route({ input: requestBody(NewPost) }, (ctx) => {
 *   ctx.status = 201;
 *   ctx.body = ctx.state.input;
 * }));
 * ```
 */
export function createKoaAdapter(toolkit: Toolkit): KoaAdapter {
  const runtime = toolkitRuntime(toolkit);
  // On koa's context under this adapter's own symbol. Not a WeakMap keyed by `ctx`: V8's
  // minor GCs keep every WeakMap entry whose key is young, so each request's whole object
  // graph was promoted to the old generation (under load: far more heap and GC time).
  const contextKey = Symbol('toolkitContext');
  type Carrier = { [contextKey]?: KoaContext };

  const context = (ctx: object): KoaContext => {
    const found = (ctx as Carrier)[contextKey];
    if (found === undefined) {
      throw new ConfigurationError(
        'No toolkit context for this koa request: add `app.use(kit.middleware)` before the routes.',
      );
    }
    return found;
  };

  /** Gives the core context the router's full template (prefix included) and params. */
  const bindRoute = (ctx: AnyKoaContext): KoaContext => {
    const core = context(ctx);
    const routed = ctx as AnyKoaContext & RouterFields;
    const template = routed.routerPath;
    if (typeof template === 'string') core.request.route = template;
    if (routed.params !== undefined) {
      // The router hands a parameter it cannot decode over as raw text: refuse the path.
      checkPathEncoding(ctx.path);
      core.request.params = routed.params;
    }
    // A koa body parser (`@koa/bodyparser`) already consumed the stream: use its result.
    const parsed = (ctx.request as { body?: unknown }).body;
    if (parsed !== undefined) core.request.preParsedBody = { value: parsed };
    return core;
  };

  // Every error is written here as a problem, so koa's `onerror` never clears headers.
  // Promise chains rather than async functions: one promise and one turn per request
  // instead of an async frame, an await and a catch around each step.
  const steps: RequestSteps<KoaContext, Next, void | Promise<void>> = {
    proceed: (core, next) =>
      next().then(
        () => {
          const { koa } = core;
          // A bodiless error status left by the rest of the app becomes a problem.
          if (koa.status >= 400 && koa.body == null && koa.respond !== false) {
            failRequest(core, statusError(koa));
          }
        },
        (error: unknown) => failRequest(core, error),
      ),
    fail: (core, _next, error) => failRequest(core, error),
  };

  const middleware: Middleware = (ctx, next) => {
    const core = new KoaContext(ctx, toolkit);
    (ctx as Carrier)[contextKey] = core;
    return startRequest(core, next, steps);
  };

  return {
    middleware,
    mount(router, routes) {
      const mounted = prepareRoutes(toolkit, routes, router.opts.prefix);
      for (const { method, path, lifecycle } of mounted) {
        router.register(path, [method], (ctx) => runRoute(bindRoute(ctx), lifecycle, undefined));
      }
      return router;
    },
    route(dependencies, handler) {
      const names = Object.keys(dependencies);
      const route: LifecycleRoute<KoaContext, Next, unknown> = {
        entries: runtime.prepareRoute(dependencies).entries,
        call({ koa }, next, values) {
          const state = koa.state as Record<string, unknown>;
          for (const name of names) state[name] = values[name];
          return handler(koa as Parameters<typeof handler>[0], next);
        },
      };
      // Not async: koa-compose turns a synchronous throw into a rejection.
      return (ctx, next) => runRoute(bindRoute(ctx), route, next);
    },
    endpoint(handler) {
      const route = endpointRoute(handler);
      return (ctx) => runRoute(bindRoute(ctx), route, undefined);
    },
    context,
  };
}
