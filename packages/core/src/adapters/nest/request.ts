// The Nest side of the adapter, the same on both of Nest's platforms: the context of a
// request, found from express's `req` or fastify's `request` through the Node request
// underneath, and the middleware, guard and exception filter that run the lifecycle.
import { IncomingMessage, type ServerResponse } from 'node:http';
import {
  type ArgumentsHost,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  HttpException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  failRequest,
  type LifecycleRoute,
  NodeContext,
  NodeRequestView,
  nodeResponseWriter,
  type RequestSteps,
  runRoute,
  startRequest,
  type ToolkitRuntime,
  toolkitRuntime,
  writeProblem,
} from '../../adapter/index.js';
import {
  ConfigurationError,
  type DependencyMap,
  HttpError,
  NotFoundError,
  type Toolkit,
} from '../../index.js';

/** The contexts this adapter made, by the Node request each belongs to. */
class NestContext extends NodeContext {}

const contexts = new WeakMap<IncomingMessage, NestContext>();

/** What Nest hands out as the request: express's `req`, fastify's `request`, or Node's own. */
interface PlatformRequest {
  readonly raw?: unknown;
  readonly body?: unknown;
  readonly params?: Readonly<Record<string, unknown>>;
  /** Fastify's matched route. */
  readonly routeOptions?: { readonly url?: string };
  /** Express's matched route and the mount path before it. */
  readonly route?: { readonly path?: unknown };
  readonly baseUrl?: string;
  readonly originalUrl?: string;
}

/** The Node request under express's `req` (which is one) or fastify's `request.raw`. */
function nodeRequestOf(request: PlatformRequest): IncomingMessage {
  return request instanceof IncomingMessage ? request : (request.raw as IncomingMessage);
}

function routeTemplateOf(request: PlatformRequest): string | undefined {
  if (request.routeOptions !== undefined) return request.routeOptions.url;
  const path = request.route?.path;
  return typeof path === 'string' ? (request.baseUrl ?? '') + path : undefined;
}

function paramsOf(request: PlatformRequest): Readonly<Record<string, string>> {
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.params ?? {})) {
    params[name] = Array.isArray(value) ? value.join('/') : String(value);
  }
  return params;
}

/**
 * The toolkit context of a request Nest routed, given what the platform knows only now:
 * the route template, its params, a body its parser already read.
 */
export function enterRequest(request: unknown): NodeContext {
  const platform = request as PlatformRequest;
  const ctx = contexts.get(nodeRequestOf(platform));
  if (ctx === undefined) {
    throw new ConfigurationError(
      'No toolkit context for this request: import `OrgToolkitModule.forRoot({ toolkit })` in the root module.',
    );
  }
  const view = ctx.request;
  if (view.route === undefined) {
    view.route = routeTemplateOf(platform);
    view.params = paramsOf(platform);
  }
  if (platform.body !== undefined && view.preParsedBody === undefined) {
    view.preParsedBody = { value: platform.body };
  }
  return ctx;
}

/**
 * The middleware that runs first for every request, matched or not: builds the context
 * and runs the toolkit's plugins, which may answer at once (a preflight, a 429).
 */
export function toolkitMiddleware(toolkit: Toolkit) {
  const steps: RequestSteps<NestContext, () => void, void> = {
    proceed: (_ctx, next) => next(),
    fail: (ctx, _next, error) => failRequest(ctx, error),
  };
  return (request: IncomingMessage, response: ServerResponse, next: () => void): void => {
    if (contexts.has(request)) {
      next();
      return;
    }
    // Both platforms strip a middleware's mount path from `url`, and keep `originalUrl`.
    const url = (request as PlatformRequest).originalUrl ?? request.url;
    const ctx = new NestContext(new NodeRequestView(request, toolkit, url), response, toolkit);
    contexts.set(request, ctx);
    void startRequest(ctx, next, steps);
  };
}

/** The metadata key of {@link UseDependencies}' dependency maps. */
export const DEPENDENCIES = Reflector.createDecorator<DependencyMap>();

/**
 * Resolves the dependencies a handler and its controller declare with
 * `@UseDependencies`, after the toolkit's app-wide ones, before any other guard: a 401
 * or 403 happens before the handler runs.
 */
export class DependencyGuard implements CanActivate {
  readonly #reflector = new Reflector();
  readonly #routes = new WeakMap<
    object,
    WeakMap<object, LifecycleRoute<NodeContext, void, true>>
  >();

  canActivate(execution: ExecutionContext): true | Promise<true> {
    if (execution.getType() !== 'http') return true;
    const ctx = enterRequest(execution.switchToHttp().getRequest());
    return runRoute(ctx, this.#routeOf(ctx.toolkit, execution), undefined);
  }

  /** The route's dependencies, prepared once per handler (the graph checked then). */
  #routeOf(toolkit: Toolkit, execution: ExecutionContext): LifecycleRoute<NodeContext, void, true> {
    const type = execution.getClass();
    const handler = execution.getHandler();
    let routes = this.#routes.get(type);
    if (routes === undefined) this.#routes.set(type, (routes = new WeakMap()));
    let route = routes.get(handler);
    if (route === undefined) {
      const dependencies = {
        ...this.#reflector.get(DEPENDENCIES, type),
        ...this.#reflector.get(DEPENDENCIES, handler),
      };
      const { entries } = toolkitRuntime(toolkit).prepareRoute(dependencies);
      route = { entries, call: () => true };
      routes.set(handler, route);
    }
    return route;
  }
}

/**
 * Nest's HttpExceptions as the toolkit's problems, by status: their message is not
 * shown, since Nest's own echo the path (`Cannot GET /x`) or the input.
 */
function shownError(exception: unknown, ctx: NodeContext | undefined): unknown {
  if (!(exception instanceof HttpException)) return exception;
  const status = exception.getStatus();
  if (status >= 500) return new HttpError(status, { cause: exception });
  // A matched route's 404 is the app's own: not "no route matches".
  if (status === 404 && ctx?.request.route !== undefined) return new NotFoundError();
  return { status };
}

/** Writes every error of an HTTP request as an RFC 9457 problem, Nest's own included. */
export class ProblemFilter implements ExceptionFilter {
  readonly #toolkit: ToolkitRuntime;
  constructor(toolkit: Toolkit) {
    this.#toolkit = toolkitRuntime(toolkit);
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const request = nodeRequestOf(http.getRequest<PlatformRequest>());
    const ctx = contexts.get(request);
    const shown = shownError(exception, ctx);
    if (ctx !== undefined) {
      failRequest(ctx, exception, shown);
      return;
    }
    // Before the middleware (a parser's error): no context, so no request id.
    const response = http.getResponse<{ raw?: ServerResponse } & ServerResponse>();
    const raw = response.raw ?? response;
    writeProblem(nodeResponseWriter(raw), this.#toolkit.renderError(shown, undefined));
  }
}
