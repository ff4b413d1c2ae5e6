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
 * kit.mount(app, routes); // framework-neutral `Route`s, written once for every adapter
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
  ErrorRequestHandler,
  IRouter,
  NextFunction,
  Request,
  RequestHandler,
  Response,
} from 'express';
import { type Context, getCurrentContext } from '../../context/context.js';
import type { DependencyMap, ResolvedValues } from '../../dependency/dependency.js';
import { ConfigurationError } from '../../errors/configuration-error.js';
import { MethodNotAllowedError, NotFoundError } from '../../errors/http-error.js';
import { asError } from '../../errors/problem.js';
import { NodeContext, NodeRequestView, nodeResponseWriter } from '../../internal/node-request.js';
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
  checkDependencyName,
  fromBodyParserError,
  knownRoutesOf,
  routeParams,
  routeTemplate,
} from './request.js';

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
   * Registers framework-neutral {@link Route}s on an app or `express.Router()`, after
   * `kit.middleware`, and records them in `toolkit.routes` for the OpenAPI document (a
   * router used under a path is recorded without it). Errors go to `next(err)`.
   *
   * @example
   * ```ts
   * app.use(kit.middleware);
   * kit.mount(app, [defineRoute({ method: 'GET', path: '/users/me', dependencies: { user: currentUser },
   *   handler: (_ctx, { user }) => ({ body: user }) })]);
   * app.use(kit.notFound, kit.errorHandler);
   * ```
   */
  mount<T extends IRouter>(target: T, routes: readonly Route[]): T;
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
  const runtime = toolkitRuntime(toolkit);
  // Plugins' failures go down express's error chain, to `kit.errorHandler` or the app's own.
  const steps: RequestSteps<ExpressContext, NextFunction, void> = {
    proceed: (_ctx, next) => next(),
    fail: (_ctx, next, error) => next(asError(error)),
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

  /**
   * Runs a route in the request's async context (some middleware, session stores and
   * pools, lose it); errors, sync or async, go to `next(err)`.
   */
  const run = (
    req: Request,
    route: LifecycleRoute<ExpressContext, NextFunction, unknown>,
    next: NextFunction,
  ): void => {
    let out: unknown;
    try {
      const ctx = enter(req);
      out =
        !runtime.asyncContext || getCurrentContext() === ctx
          ? runRoute(ctx, route, next)
          : runtime.runInContext(ctx, () => runRoute(ctx, route, next));
    } catch (error) {
      next(asError(error));
      return;
    }
    if (out instanceof Promise) out.then(undefined, (error: unknown) => next(asError(error)));
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
      startRequest(ctx, next, steps);
    },

    mount(target, routes) {
      for (const { method, path, lifecycle } of prepareRoutes(toolkit, routes)) {
        const handle: RequestHandler = (req, _res, next) => run(req, lifecycle, next);
        target
          .route(path)
          [method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete'](handle);
      }
      return target;
    },

    route<M extends DependencyMap>(dependencies: M, handler: ExpressRouteHandler<M>) {
      const names = Object.keys(dependencies);
      for (const name of names) checkDependencyName(name);
      const route: LifecycleRoute<ExpressContext, NextFunction, unknown> = {
        entries: runtime.prepareRoute(dependencies).entries,
        // Express's req and res are the Node request and response the context wraps.
        call(ctx, next, values) {
          const req = ctx.request.raw as Request;
          for (const name of names) Reflect.set(req, name, values[name]);
          return handler(req as Request & ResolvedValues<M>, ctx.response as Response, next);
        },
      };
      return (req, _res, next) => run(req, route, next);
    },

    endpoint(handler) {
      const route = endpointRoute(handler);
      return (req, _res, next) => run(req, route, next);
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
      const ctx = req.toolkitContext;
      const shown = fromBodyParserError(error);
      if (ctx instanceof ExpressContext) failRequest(ctx, error, shown);
      else writeProblem(nodeResponseWriter(res), runtime.renderError(shown, undefined));
    },

    context(req) {
      const ctx = req.toolkitContext;
      if (ctx === undefined) throw missingMiddleware();
      return ctx;
    },
  };
}
