/**
 * The hono adapter: plugins and dependencies on any hono app, resolved values in a
 * typed `c.get(...)`, every error and unknown route as an RFC 9457 problem.
 *
 * @example
 * ```ts
 * const kit = createHonoAdapter(createToolkit());
 * const app = kit.install(new Hono());
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
import type { HandlerResponse } from 'hono/types';
import type { StatusCode } from 'hono/utils/http-status';
import type { Context } from '../../context/context.js';
import type { DependencyMap, ResolvedValues } from '../../dependency/dependency.js';
import { ConfigurationError } from '../../errors/configuration-error.js';
import { MethodNotAllowedError, NotFoundError } from '../../errors/http-error.js';
import { PROBLEM_CONTENT_TYPE } from '../../errors/problem.js';
import { KnownRoutes } from '../../internal/known-routes.js';
import { serializeBody } from '../../internal/node-request.js';
import type { Reply } from '../../toolkit/plugin.js';
import type { Toolkit } from '../../toolkit/toolkit.js';
import { HonoContext, nodeBindingsOf } from './request-view.js';

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
   * Attaches the toolkit to a new `app` and returns it: a middleware on `*` gives every
   * request its context and runs the plugins (404s and routes without the adapter
   * included), and the error and 404 handlers become the adapter's; a known path asked
   * with another method is answered 405 with `Allow`. Hono runs handlers in the order
   * they were added, so call it before adding any route or middleware (it throws
   * otherwise).
   */
  install<E extends Env, S extends Schema, B extends string>(app: Hono<E, S, B>): Hono<E, S, B>;
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
  /** The toolkit context of a request. Throws when the app was not {@link HonoAdapter.install}ed. */
  context(c: FrameworkContext): Context;
}

/** The hono environment of a route with `dependencies`: their resolved values as variables. */
export type RouteEnv<M extends DependencyMap> = {
  /** The resolved value of each dependency, read with `c.get(name)`. */
  Variables: ResolvedValues<M>;
};

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** The apps a hono adapter is installed on. */
const installed = new WeakSet<object>();

/** The hono variable (`c.get`) holding the toolkit context of a request. */
const CONTEXT_VARIABLE = '@org/core.context';

/** A {@link Reply} as a Response, through hono's context. */
function toResponse(ctx: HonoContext, reply: Reply): Response {
  const status = reply.status ?? 200;
  const payload = serializeBody(reply.body);
  const json = payload !== reply.body;
  // The Reply's own content-type, in any case, is set last and wins.
  const headers = json
    ? { 'content-type': 'application/json; charset=utf-8', ...reply.headers }
    : reply.headers;
  // A Reply's bytes sit on a plain ArrayBuffer, as a Response requires.
  const body = NULL_BODY_STATUSES.has(status)
    ? null
    : ((payload ?? null) as string | Uint8Array<ArrayBuffer> | null);
  ctx.bytes = payload === undefined ? 0 : Buffer.byteLength(payload);
  return ctx.request.c.newResponse(body, status as StatusCode, headers);
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
  const contextOf = (c: FrameworkContext): HonoContext => {
    const ctx = c.get(CONTEXT_VARIABLE) as HonoContext | undefined;
    if (ctx !== undefined) return ctx;
    throw new ConfigurationError(
      'No toolkit context for this hono request: call kit.install(app) before adding routes.',
    );
  };

  const problemResponse = (c: FrameworkContext, error: unknown): Response => {
    const ctx = c.get(CONTEXT_VARIABLE) as HonoContext | undefined;
    if (ctx !== undefined) ctx.failure = error;
    const problem = toolkit.renderError(error, ctx);
    // Content headers set for a response begun before the failure do not describe the problem.
    c.header('content-length', undefined);
    c.header('content-encoding', undefined);
    const body = JSON.stringify(problem.body);
    if (ctx !== undefined) ctx.bytes = Buffer.byteLength(body);
    return c.newResponse(body, problem.status as StatusCode, {
      ...problem.headers,
      'content-type': PROBLEM_CONTENT_TYPE,
    });
  };

  /** The adapter's middleware on `*`: the context, the plugins, hono's routing, the headers. */
  const middleware: MiddlewareHandler = (c, next) => {
    const bindings = nodeBindingsOf(c.env);
    const ctx = new HonoContext(c, toolkit, bindings);
    c.set(CONTEXT_VARIABLE, ctx);
    // On node-server, teardowns run once the response was really sent, or the client left.
    ctx.finishOnClose();
    return toolkit.runInContext(ctx, async () => {
      let early: void | Reply;
      try {
        const result = toolkit.runPlugins(ctx);
        early = result instanceof Promise ? await result : result;
      } catch (error) {
        return finalize(ctx, problemResponse(c, error));
      }
      if (early !== undefined) return finalize(ctx, toResponse(ctx, early));
      await next();
      const sent = finalize(ctx, c.res);
      // Assigning c.res makes hono copy the response: only when it had to change.
      if (sent !== c.res) c.res = sent;
      return undefined;
    });
  };

  /** The headers set through the context go on `response`; in-process, the request ends here. */
  const finalize = (ctx: HonoContext, response: Response): Response => {
    const sent = ctx.applyHeaders(response);
    if (!ctx.onNodeServer) {
      void ctx.finish({
        status: sent.status,
        aborted: false,
        error: ctx.failure,
        bytes: ctx.bytes,
      });
    }
    return sent;
  };

  /** The methods hono serves for a path, from the app's public route list. */
  const knownRoutes = new KnownRoutes();
  const allowedMethods = (app: Hono, c: FrameworkContext): readonly string[] | undefined => {
    if (knownRoutes.size !== app.routes.length) {
      knownRoutes.clear();
      for (const route of app.routes) knownRoutes.add(route.method, route.path);
    }
    return knownRoutes.allowed(c.req.method, new URL(c.req.url).pathname);
  };

  const kit: HonoAdapter = {
    errorHandler: (error, c) => problemResponse(c, error),
    notFound: (c) =>
      problemResponse(c, new NotFoundError({ detail: 'No route matches this request.' })),
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
      const base = app as unknown as Hono;
      app.use('*', middleware);
      app.onError(kit.errorHandler);
      app.notFound((c) => {
        const allow = allowedMethods(base, c);
        return allow === undefined
          ? kit.notFound(c)
          : problemResponse(c, new MethodNotAllowedError({ allow }));
      });
      return app;
    },
    route: ((dependencies: DependencyMap, handler?: (c: FrameworkContext) => unknown) => {
      const { entries } = toolkit.prepareRoute(dependencies);
      const names = Object.keys(dependencies);
      const resolve = (c: FrameworkContext): void | Promise<void> => {
        const ctx = contextOf(c);
        ctx.request.bindRoute();
        const resolved = ctx.resolveAll(entries);
        if (resolved instanceof Promise)
          return resolved.then((values) => {
            for (const name of names) c.set(name, values[name]);
          });
        for (const name of names) c.set(name, resolved[name]);
      };
      if (handler !== undefined) {
        return (c: FrameworkContext) => {
          const resolving = resolve(c);
          return resolving === undefined ? handler(c) : resolving.then(() => handler(c));
        };
      }
      const middleware: MiddlewareHandler = async (c, next) => {
        const resolving = resolve(c);
        if (resolving !== undefined) await resolving;
        await next();
      };
      return middleware;
    }) as HonoAdapter['route'],
    endpoint<E extends Env>(handler: HonoEndpoint<E>): Handler<E> {
      return async (c) => {
        const ctx = contextOf(c);
        // Without kit.route in front, the route becomes known here.
        if (!ctx.request.bound) ctx.request.bindRoute();
        const result = handler(ctx, c);
        const reply = result instanceof Promise ? await result : result;
        return toResponse(ctx, reply ?? { status: 204 });
      };
    },
    context: contextOf,
  };
  return kit;
}
