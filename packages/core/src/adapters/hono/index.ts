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
import { NotFoundError } from '../../errors/http-error.js';
import { PROBLEM_CONTENT_TYPE } from '../../errors/problem.js';
import { coalesceWrites } from '../../internal/coalesce-writes.js';
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
  /** For `app.onError`: any error as a problem, keeping the headers set before it. */
  readonly errorHandler: ErrorHandler;
  /** For `app.notFound`: a 404 problem that never echoes the path. */
  readonly notFound: NotFoundHandler;
  /**
   * Attaches the toolkit to `app` and returns it: every request `app.fetch` receives
   * gets its context and runs the plugins (404s and routes without the adapter
   * included) before hono routes it, and the error and 404 handlers become the
   * adapter's. Call it before handing `app.fetch` to a server; routes may come before
   * or after. No hono middleware is added, so a route whose one handler is a
   * `kit.route(deps, handler)` keeps hono's single-handler path.
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

/** Marks an app whose `fetch` a hono adapter already wraps. */
const INSTALLED = Symbol('@org/core/hono installed');

/**
 * A {@link Reply} as a Response: through hono's context once there is one, else (a
 * plugin's early reply) built directly with the headers waiting for hono's context.
 */
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
  return respond(ctx, body, status, headers);
}

/** A Response through hono's context when `ctx` has one, else built here with `ctx`'s waiting headers. */
function respond(
  ctx: HonoContext | undefined,
  body: string | Uint8Array<ArrayBuffer> | null,
  status: number,
  headers: Readonly<Record<string, string>> | undefined,
): Response {
  const c = ctx?.request.c;
  if (c !== undefined) return c.newResponse(body, status as StatusCode, headers);
  const response = new Response(body, { status, ...(headers ? { headers } : {}) });
  return ctx === undefined ? response : ctx.applyPending(response);
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
  // On the Request hono's `fetch` received (hono's `c.req.raw`), under this adapter's own
  // symbol. Not a WeakMap: V8's minor GCs keep every WeakMap entry whose key is young,
  // so each request's whole object graph was promoted to the old generation (under load:
  // 3x the heap, half the throughput).
  const contextKey = Symbol('toolkitContext');
  type Carrier = { [contextKey]?: HonoContext };
  const contextFor = (c: FrameworkContext): HonoContext | undefined => {
    const ctx = (c.req.raw as Carrier)[contextKey];
    ctx?.bind(c);
    return ctx;
  };

  const contextOf = (c: FrameworkContext): HonoContext => {
    const ctx = contextFor(c);
    if (ctx !== undefined) return ctx;
    throw new ConfigurationError(
      'No toolkit context for this hono request: call kit.install(app) before passing app.fetch to the server.',
    );
  };

  const problemResponse = (ctx: HonoContext | undefined, error: unknown): Response => {
    const problem = toolkit.renderError(error, ctx);
    const c = ctx?.request.c;
    // Content headers set for a response begun before the failure do not describe the problem.
    c?.header('content-length', undefined);
    c?.header('content-encoding', undefined);
    const headers = { ...problem.headers, 'content-type': PROBLEM_CONTENT_TYPE };
    return respond(ctx, JSON.stringify(problem.body), problem.status, headers);
  };

  /** A plugin's failure as a problem: errors inside hono reach errorHandler instead. */
  const pluginFailure = (ctx: HonoContext, error: unknown): Response => {
    ctx.failure = error;
    return problemResponse(ctx, error);
  };

  /** hono's `fetch` behind the toolkit: the context, the plugins, then hono's routing. */
  const handle = (
    request: Request,
    env: unknown,
    executionCtx: unknown,
    dispatch: (
      request: Request,
      env: unknown,
      executionCtx: unknown,
    ) => Response | Promise<Response>,
  ): Response | Promise<Response> => {
    const bindings = nodeBindingsOf(env);
    const ctx = new HonoContext(request, toolkit, bindings);
    (request as Carrier)[contextKey] = ctx;
    const outgoing = bindings?.outgoing;
    if (toolkit.coalesceWrites && bindings !== undefined) coalesceWrites(bindings.incoming.socket);
    // On node-server, teardowns run once the response was really sent, or the client left.
    ctx.finishOnClose();
    const response = toolkit.runInContext(ctx, () => {
      try {
        const early = toolkit.runPlugins(ctx);
        if (early instanceof Promise) {
          return early.then(
            (reply) =>
              reply === undefined ? dispatch(request, env, executionCtx) : toResponse(ctx, reply),
            (error: unknown) => pluginFailure(ctx, error),
          );
        }
        return early === undefined ? dispatch(request, env, executionCtx) : toResponse(ctx, early);
      } catch (error) {
        return pluginFailure(ctx, error);
      }
    });
    // Vary or Set-Cookie from a plugin, for a route that never met the adapter.
    if (outgoing !== undefined && !ctx.hasPending) return response;
    const settle = (built: Response): Response => {
      const sent = ctx.applyPending(built);
      // No socket to watch (app.request(), other runtimes): the Response is built, so finish now.
      if (outgoing === undefined) {
        void ctx.finish({
          status: sent.status,
          aborted: false,
          error: ctx.failure,
          bytes: Number(sent.headers.get('content-length')) || 0,
        });
      }
      return sent;
    };
    return response instanceof Promise ? response.then(settle) : settle(response);
  };

  const kit: HonoAdapter = {
    errorHandler: (error, c) => {
      const ctx = contextFor(c);
      if (ctx !== undefined) ctx.failure = error;
      return problemResponse(ctx, error);
    },
    notFound: (c) =>
      problemResponse(
        contextFor(c),
        new NotFoundError({ detail: 'No route matches this request.' }),
      ),
    install(app) {
      const marked = app as { [INSTALLED]?: true };
      if (marked[INSTALLED]) {
        // A second wrapper would run every plugin twice per request.
        throw new ConfigurationError(
          'kit.install(app): this hono app already has a toolkit installed; install one per app, once.',
        );
      }
      marked[INSTALLED] = true;
      app.onError(kit.errorHandler).notFound(kit.notFound);
      const dispatch = app.fetch;
      app.fetch = (request, env, executionCtx) =>
        handle(request, env, executionCtx, dispatch as Parameters<typeof handle>[3]);
      return app;
    },
    route: ((dependencies: DependencyMap, handler?: (c: FrameworkContext) => unknown) => {
      const { entries } = toolkit.prepareRoute(dependencies);
      const names = Object.keys(dependencies);
      const resolve = (c: FrameworkContext): void | Promise<void> => {
        const ctx = contextOf(c);
        ctx.request.bindRoute(c);
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
        if (ctx.request.route === undefined) ctx.request.bindRoute(c);
        const result = handler(ctx, c);
        const reply = result instanceof Promise ? await result : result;
        return toResponse(ctx, reply ?? { status: 204 });
      };
    },
    context: contextOf,
  };
  return kit;
}
