/**
 * The express adapter: one middleware that builds the request context and runs the
 * toolkit's plugins, route handlers that resolve dependencies onto `req`, and the
 * 404 and error handlers that answer with RFC 9457 problems.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createToolkit } from '@org/core';
 * import { createExpressAdapter } from '@org/core/express';
 *
 * const kit = createExpressAdapter(createToolkit());
 * const app = express();
 * app.use(kit.middleware); // first: context, plugins, request id
 * app.use(express.json()); // optional: the adapter reads bodies itself otherwise
 * app.get('/users/:id', kit.route({ user: currentUser }, (req, res) => {
 *   res.json(req.user); // typed from the `currentUser` dependency
 * }));
 * app.get('/.well-known/jwks.json', kit.endpoint(() => ({ body: keySet.jwks() })));
 * app.use(kit.notFound, kit.errorHandler); // last
 * app.listen(3000);
 * ```
 *
 * @module \@org/core/express
 */
import type {
  Application,
  ErrorRequestHandler,
  NextFunction,
  Request,
  RequestHandler,
  Response,
} from 'express';
import { type Context, getCurrentContext } from '../../context/context.js';
import type { DependencyMap, ResolvedValues } from '../../dependency/dependency.js';
import { ConfigurationError } from '../../errors/configuration-error.js';
import { MethodNotAllowedError, NotFoundError } from '../../errors/http-error.js';
import { KnownRoutes } from '../../internal/known-routes.js';
import { NodeContext, NodeRequestView, writeProblem } from '../../internal/node-request.js';
import type { Reply } from '../../toolkit/plugin.js';
import type { Toolkit } from '../../toolkit/toolkit.js';
import { checkDependencyName, fromBodyParserError, routeParams, routeTemplate } from './request.js';

declare global {
  namespace Express {
    interface Request {
      /** The toolkit context of this request, set by `kit.middleware`. Prefer `kit.context(req)`. */
      toolkitContext?: Context;
    }
  }
}

/** An express handler whose `req` carries the resolved value of each dependency under its name. */
export type ExpressRouteHandler<M extends DependencyMap> = (
  req: Request & ResolvedValues<M>,
  res: Response,
  next: NextFunction,
) => unknown;

/** A framework-neutral handler (metrics, health, JWKS) that returns the whole response. */
export type ExpressEndpoint = (ctx: Context) => Reply | Promise<Reply>;

/** What {@link createExpressAdapter} returns. */
export interface ExpressAdapter {
  /** `app.use` it before everything else: builds the context and runs the plugins, which may answer early. */
  readonly middleware: RequestHandler;
  /**
   * A route handler that resolves `dependencies` once per request, puts each value on
   * `req` under its name (`req.user`), then calls `handler`. The dependency graph is
   * checked here, once. Errors, sync or async, go to `next(err)`.
   * @throws A {@link ConfigurationError} when a name would overwrite a `req` property.
   */
  route<M extends DependencyMap>(dependencies: M, handler: ExpressRouteHandler<M>): RequestHandler;
  /** Mounts a framework-neutral handler that returns a {@link Reply}. */
  endpoint(handler: ExpressEndpoint): RequestHandler;
  /** `app.use` it after the routes: a 404 problem that never echoes the path. */
  readonly notFound: RequestHandler;
  /** `app.use` it last: writes any error (express's and body-parser's too) as a problem. */
  readonly errorHandler: ErrorRequestHandler;
  /** The toolkit context of a request. Throws when `kit.middleware` did not run. */
  context(req: Request): Context;
}

/** The contexts this adapter made (`req.toolkitContext` may hold another adapter's). */
class ExpressContext extends NodeContext {}

const missingMiddleware = () =>
  new ConfigurationError(
    'No toolkit context for this express request: add `app.use(kit.middleware)` before the routes.',
  );

/** The routes of each app, read again when its router's stack grew. */
const appRoutes = new WeakMap<Application, { readonly routes: KnownRoutes; layers: number }>();

/** The method and path of every route of `app`, from its router's public `stack`. */
function knownRoutesOf(app: Application): KnownRoutes {
  const { stack } = app.router;
  let entry = appRoutes.get(app);
  if (entry === undefined) appRoutes.set(app, (entry = { routes: new KnownRoutes(), layers: -1 }));
  if (entry.layers !== stack.length) {
    entry.routes.clear();
    entry.layers = stack.length;
    for (const { route } of stack) {
      if (route === undefined || typeof route.path !== 'string') continue;
      for (const layer of route.stack)
        if (layer.method) entry.routes.add(layer.method.toUpperCase(), route.path);
    }
  }
  return entry.routes;
}

/**
 * Creates the express adapter over a toolkit.
 *
 * @example
 * ```ts
 * const kit = createExpressAdapter(toolkit);
 * app.use(kit.middleware);
 * ```
 */
export function createExpressAdapter(toolkit: Toolkit): ExpressAdapter {
  const begin = (ctx: ExpressContext, next: NextFunction): void => {
    let early: ReturnType<Toolkit['runPlugins']>;
    try {
      early = toolkit.runPlugins(ctx);
    } catch (error) {
      next(error);
      return;
    }
    if (early === undefined) next();
    else if (!(early instanceof Promise)) ctx.send(early);
    else early.then((reply) => (reply === undefined ? next() : ctx.send(reply)), next);
  };

  /** Gives the context what express knows only now: the route template, params, a parsed body. */
  const enter = (req: Request): ExpressContext => {
    const ctx = req.toolkitContext;
    if (!(ctx instanceof ExpressContext)) throw missingMiddleware();
    const view = ctx.request;
    view.route = routeTemplate(req);
    view.params = routeParams(req.params);
    if (req.body !== undefined && view.preParsedBody === undefined) {
      view.preParsedBody = { value: req.body };
    }
    return ctx;
  };

  return {
    middleware(req, res, next) {
      // Mounted again in a sub-app: the request already has its context.
      if (req.toolkitContext !== undefined) return next();
      const ctx = new ExpressContext(
        new NodeRequestView(req, toolkit, req.originalUrl),
        res,
        toolkit,
      );
      req.toolkitContext = ctx;
      ctx.finishOnClose();
      toolkit.runInContext(ctx, () => begin(ctx, next));
    },

    route<M extends DependencyMap>(dependencies: M, handler: ExpressRouteHandler<M>) {
      const names = Object.keys(dependencies);
      for (const name of names) checkDependencyName(name);
      const { entries } = toolkit.prepareRoute(dependencies);
      const call = (
        req: Request,
        res: Response,
        next: NextFunction,
        values: Record<string, unknown>,
      ): unknown => {
        for (const name of names) Reflect.set(req, name, values[name]);
        return handler(req as Request & ResolvedValues<M>, res, next);
      };
      const handle = (ctx: Context, req: Request, res: Response, next: NextFunction): void => {
        const resolved = ctx.resolveAll(entries);
        const out =
          resolved instanceof Promise
            ? resolved.then((values) => call(req, res, next, values))
            : call(req, res, next, resolved);
        if (out instanceof Promise) {
          out.then(undefined, (error: unknown) => next(error ?? new Error('Rejected promise')));
        }
      };
      return (req, res, next) => {
        const ctx = enter(req);
        // Some middleware (session stores, pools) lose the async context; restore it.
        if (!toolkit.asyncContext || getCurrentContext() === ctx)
          return handle(ctx, req, res, next);
        toolkit.runInContext(ctx, () => handle(ctx, req, res, next));
      };
    },

    endpoint(handler) {
      return (req, _res, next) => {
        const ctx = enter(req);
        const out =
          !toolkit.asyncContext || getCurrentContext() === ctx
            ? handler(ctx)
            : toolkit.runInContext(ctx, () => handler(ctx));
        if (!(out instanceof Promise)) return ctx.send(out);
        out.then((reply) => ctx.send(reply), next);
      };
    },

    notFound(req, _res, next) {
      // A route handler may have called next(): an unmatched request has no template.
      if (req.toolkitContext instanceof ExpressContext)
        req.toolkitContext.request.route = undefined;
      const allow = knownRoutesOf(req.app).allowed(req.method, req.path);
      next(
        allow === undefined
          ? new NotFoundError({ detail: 'No route matches this request.' })
          : new MethodNotAllowedError({ allow }),
      );
    },

    errorHandler(error: unknown, req, res, _next) {
      const ctx = req.toolkitContext instanceof ExpressContext ? req.toolkitContext : undefined;
      if (ctx !== undefined) ctx.failure = error;
      const problem = toolkit.renderError(fromBodyParserError(error), ctx);
      if (ctx !== undefined) ctx.sendProblem(problem);
      else writeProblem(res, problem);
    },

    context(req) {
      const ctx = req.toolkitContext;
      if (ctx === undefined) throw missingMiddleware();
      return ctx;
    },
  };
}
