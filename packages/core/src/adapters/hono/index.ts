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
import { routePath } from 'hono/route';
import type { HandlerResponse } from 'hono/types';
import type { StatusCode } from 'hono/utils/http-status';
import type { Context } from '../../context/context.js';
import type { DependencyMap, ResolvedValues } from '../../dependency/dependency.js';
import { NotFoundError } from '../../errors/http-error.js';
import { PROBLEM_CONTENT_TYPE } from '../../errors/problem.js';
import { serializeBody } from '../../internal/node-request.js';
import type { Reply } from '../../toolkit/plugin.js';
import { ConfigurationError, type Toolkit } from '../../toolkit/toolkit.js';
import { HonoContext, nodeBindingsOf } from './request-view.js';

/** A framework-neutral handler for {@link HonoAdapter.endpoint}; undefined sends 204. */
export type HonoEndpoint<E extends Env = Env> = (
  ctx: Context,
  c: FrameworkContext<E>,
) => Reply | undefined | Promise<Reply | undefined>;

/** What {@link createHonoAdapter} returns. */
export interface HonoAdapter {
  /** Builds the context and runs the plugins for every request; teardowns after the response. Mount first. */
  readonly middleware: MiddlewareHandler;
  /** For `app.onError`: any error as a problem, keeping the headers set before it. */
  readonly errorHandler: ErrorHandler;
  /** For `app.notFound`: a 404 problem that never echoes the path. */
  readonly notFound: NotFoundHandler;
  /** Mounts {@link HonoAdapter.middleware} on `*`, the error and the 404 handlers; returns `app`. */
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
   * spares hono a middleware step per request (0.5-1 µs of CPU in the adapter
   * benchmark). `handler` sees the same typed `c.get(...)`.
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
  /** The toolkit context of a request. Throws when {@link HonoAdapter.middleware} did not run. */
  context(c: FrameworkContext): Context;
}

/** The hono environment of a route with `dependencies`: their resolved values as variables. */
export type RouteEnv<M extends DependencyMap> = {
  /** The resolved value of each dependency, read with `c.get(name)`. */
  Variables: ResolvedValues<M>;
};

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

function toResponse(c: FrameworkContext, reply: Reply): Response {
  const status = reply.status ?? 200;
  const { payload, json } = serializeBody(reply.body);
  // The Reply's own content-type, in any case, is set last and wins.
  const headers = json
    ? { 'content-type': 'application/json; charset=utf-8', ...reply.headers }
    : reply.headers;
  // A Reply's bytes sit on a plain ArrayBuffer, as a Response requires.
  const body = NULL_BODY_STATUSES.has(status)
    ? null
    : (payload as string | Uint8Array<ArrayBuffer>);
  return c.newResponse(body ?? null, status as StatusCode, headers);
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
  // On hono's context under this adapter's own symbol, so `c.var` holds nothing but the
  // resolved values. Not a WeakMap keyed by `c`: V8's minor GCs keep every WeakMap entry
  // whose key is young, so each request's whole object graph was promoted to the old
  // generation (under load: 3x the heap, half the throughput).
  const contextKey = Symbol('toolkitContext');
  type Carrier = { [contextKey]?: HonoContext };
  const contextFor = (c: FrameworkContext): HonoContext | undefined => (c as Carrier)[contextKey];

  const contextOf = (c: FrameworkContext): HonoContext => {
    const ctx = contextFor(c);
    if (ctx !== undefined) return ctx;
    throw new ConfigurationError(
      'The hono adapter middleware did not run for this request: call kit.install(app) (or app.use(kit.middleware)) before registering routes.',
    );
  };

  const bindRoute = (ctx: HonoContext, c: FrameworkContext): void => {
    ctx.request.route = routePath(c);
    ctx.request.params = c.req.param();
  };

  const problemResponse = (c: FrameworkContext, error: unknown): Response => {
    const problem = toolkit.renderError(error, contextFor(c));
    // Content headers set for a response begun before the failure do not describe the problem.
    c.header('content-length', undefined);
    c.header('content-encoding', undefined);
    const headers = { ...problem.headers, 'content-type': PROBLEM_CONTENT_TYPE };
    return c.newResponse(JSON.stringify(problem.body), problem.status as StatusCode, headers);
  };

  const middleware: MiddlewareHandler = async (c, next) => {
    const bindings = nodeBindingsOf(c);
    const ctx = new HonoContext(c, toolkit, bindings);
    (c as Carrier)[contextKey] = ctx;
    let failure: unknown;
    const finish = (status: number, aborted: boolean, length: unknown) =>
      ctx.finish({ status, aborted, error: failure ?? c.error, bytes: Number(length) || 0 });
    const outgoing = bindings?.outgoing;
    // On node-server, teardowns run once the response was really sent, or the client left.
    outgoing?.on('close', () => {
      const aborted = !outgoing.writableFinished;
      const status = aborted && !outgoing.headersSent ? 0 : outgoing.statusCode;
      // node-server passes the Response's headers straight to writeHead, which keeps the
      // length only in _contentLength. c.res.headers comes last: on node-server's
      // lightweight Response, reading it builds a real Response (~3 µs).
      void finish(
        status,
        aborted,
        outgoing.getHeader('content-length') ??
          (outgoing as { _contentLength?: number | null })._contentLength ??
          c.res.headers.get('content-length'),
      );
    });
    try {
      await toolkit.runInContext(ctx, async () => {
        const early = toolkit.runPlugins(ctx);
        const reply = early instanceof Promise ? await early : early;
        if (reply === undefined) await next();
        else c.res = toResponse(c, reply);
      });
    } catch (error) {
      // Plugin failures and non-Error throws: hono hands other errors to errorHandler.
      failure = error;
      c.res = problemResponse(c, error);
    }
    // No socket to watch (app.request()): the Response is built, so finish now.
    if (outgoing === undefined)
      void finish(c.res.status, false, c.res.headers.get('content-length'));
  };

  const kit: HonoAdapter = {
    middleware,
    errorHandler: (error, c) => problemResponse(c, error),
    notFound: (c) =>
      problemResponse(c, new NotFoundError({ detail: 'No route matches this request.' })),
    install(app) {
      app.use('*', middleware).onError(kit.errorHandler).notFound(kit.notFound);
      return app;
    },
    route: ((dependencies: DependencyMap, handler?: (c: FrameworkContext) => unknown) => {
      const { entries } = toolkit.prepareRoute(dependencies);
      const names = Object.keys(dependencies);
      const resolve = (c: FrameworkContext): void | Promise<void> => {
        const ctx = contextOf(c);
        bindRoute(ctx, c);
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
        if (ctx.request.route === undefined) bindRoute(ctx, c);
        const result = handler(ctx, c);
        const reply = result instanceof Promise ? await result : result;
        return toResponse(c, reply ?? { status: 204 });
      };
    },
    context: contextOf,
  };
  return kit;
}
