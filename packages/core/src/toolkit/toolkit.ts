import { type Context, type getCurrentContext, runInContext } from '../context/context.js';
import {
  type AnyDependency,
  DependencyCycleError,
  type DependencyMap,
  findCycle,
} from '../dependency/dependency.js';
import { DependencyOverrides } from '../dependency/overrides.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import { type ProblemResponse, toProblem } from '../errors/problem.js';
import { booleanOption, deadlineOption, positiveInteger } from '../options/check-options.js';
import type { Plugin, Reply, ResponseInfo } from './plugin.js';
import type { Route } from './route.js';
import { createUnhandledWarner } from './warn-unhandled.js';

/** Options of {@link createToolkit}. */
export interface ToolkitOptions {
  /**
   * Development mode: 500 bodies show the error message and stack. Never turn it on
   * in production.
   * @default false
   */
  development?: boolean;
  /** Framework-neutral middleware run for every request, in order. @default [] */
  plugins?: readonly Plugin[];
  /** Dependencies run before every route's own (FastAPI's app-level dependencies). @default [] */
  dependencies?: readonly AnyDependency[];
  /** Largest accepted request body in bytes; larger is 413. @default 1048576 (1 MiB) */
  bodyLimit?: number;
  /** Deepest accepted JSON nesting; deeper is 400. @default 64 */
  maxJsonDepth?: number;
  /**
   * Longest pause, in milliseconds, while a request body arrives: a body that stops
   * arriving for longer is answered 408 `ERR_BODY_TIMEOUT` and its connection closed, so
   * a client that announces a body and stalls cannot hold the request (OWASP API4:2023).
   * Node's `requestTimeout` (300 s; 0, never, on fastify) bounds only the whole request.
   * @default 30000
   */
  bodyTimeoutMs?: number;
  /**
   * Longest time, in milliseconds, a framework-neutral route (`mount`, the node adapter's
   * routes) may take from its dependencies to its reply; past it the client gets a 504
   * `ERR_DEADLINE_EXCEEDED` problem at once, `ctx.signal` aborts so the work stops, and
   * teardowns run with that outcome. A route's own `deadlineMs` overrides it. Handlers
   * that write the framework's response themselves (`kit.route`) are not bounded.
   * @default undefined (no deadline)
   */
  deadlineMs?: number;
  /**
   * Receives every error that produced a 5xx, and failures of teardowns and `onResponse`
   * plugins. A thrown value that is not an `Error` (`throw 'boom'`) arrives wrapped in
   * one, as its `cause`. Without it (or a plugin's `onError`), a failure no response shows is
   * emitted once per source and error code as a process warning (`OrgToolkitWarning`).
   */
  onError?: (error: unknown, ctx: Context | undefined) => void;
}

/** A route's dependencies, checked and flattened once at registration. */
export interface PreparedRoute {
  /** App-level then route dependencies, as `[name, dependency]` entries. */
  readonly entries: readonly (readonly [string, AnyDependency])[];
}

/** The shared runtime of one app: options, plugins, overrides. Create it with {@link createToolkit}. */
export interface Toolkit {
  /** Whether development mode is on. */
  readonly development: boolean;
  /** Body limit in bytes. */
  readonly bodyLimit: number;
  /** JSON depth limit. */
  readonly maxJsonDepth: number;
  /** Longest pause in a request body, in milliseconds. */
  readonly bodyTimeoutMs: number;
  /** Default deadline of a framework-neutral route, in milliseconds; undefined for none. */
  readonly deadlineMs: number | undefined;
  /** The plugins, in order. */
  readonly plugins: readonly Plugin[];
  /** App-wide dependency overrides (FastAPI's `dependency_overrides`). */
  readonly overrides: DependencyOverrides;
  /**
   * Every {@link Route} mounted with an adapter of this toolkit, in mount order, each
   * once, with the prefix the framework knows (a fastify plugin's, a koa router's). What
   * `createOpenApiDocument({ routes })` takes, so the document lists what is served.
   *
   * @example
   * ```ts
   * kit.mount(app, routes);
   * const document = createOpenApiDocument({ info, routes: toolkit.routes });
   * ```
   */
  readonly routes: readonly Route[];
  /**
   * Sends an error to the error hooks; with none, emits it as a process warning naming
   * `source`, once per source and error code. Never throws.
   */
  reportError(error: unknown, ctx: Context | undefined, source?: string): void;
}

/**
 * What adapters need from a {@link Toolkit} besides what apps see: the plugins' hooks,
 * route preparation, error rendering and the async context. Get it with
 * {@link toolkitRuntime}, once, when the adapter is created.
 */
export interface ToolkitRuntime extends Toolkit {
  /**
   * Whether requests are tracked through their async calls, for {@link getCurrentContext}:
   * true when a plugin declares {@link Plugin.asyncContext}.
   */
  readonly asyncContext: boolean;
  /**
   * Whether a plugin has `onResponse`. When none has and a request has no teardown, its
   * outcome (status, bytes, duration) is not worked out at the end.
   */
  readonly observesResponses: boolean;
  /** Runs every plugin's `onRequest` in order; stops at the first reply. */
  runPlugins(ctx: Context): void | Reply | Promise<void | Reply>;
  /** Checks a route's dependency graph for cycles and precomputes its entries. */
  prepareRoute(dependencies: DependencyMap): PreparedRoute;
  /** Renders an error as a problem for `ctx`, reporting 5xx errors to the error hooks. */
  renderError(error: unknown, ctx: Context | undefined): ProblemResponse;
  /** Tells the plugins a response is done. Never throws. */
  notifyResponse(ctx: Context, info: ResponseInfo): void;
  /**
   * Runs `fn` with `ctx` as the current context (see {@link getCurrentContext}); without
   * {@link ToolkitRuntime.asyncContext}, just runs it.
   */
  runInContext<R>(ctx: Context, fn: () => R): R;
}

/**
 * The routes mounted with each toolkit, behind {@link Toolkit.routes}. Its keys are the
 * toolkits {@link createToolkit} made, which is what {@link toolkitRuntime} checks.
 */
const mountedRoutes = new WeakMap<Toolkit, Route[]>();

/**
 * The adapter's view of `toolkit`: the same object, typed with what only adapters use.
 * Call it once, when the adapter is created, not per request.
 *
 * @throws A {@link ConfigurationError} when `toolkit` was not made by {@link createToolkit}.
 * @example
 * ```ts
 * export function createMyAdapter(toolkit: Toolkit) {
 *   const runtime = toolkitRuntime(toolkit);
 *   const route = runtime.prepareRoute({ user: currentUser });
 * }
 * ```
 */
export function toolkitRuntime(toolkit: Toolkit): ToolkitRuntime {
  if (!mountedRoutes.has(toolkit)) {
    throw new ConfigurationError(
      'This toolkit was not made by createToolkit(): pass the toolkit createToolkit() returned to the adapter.',
    );
  }
  return toolkit as ToolkitRuntime;
}

/**
 * Adds `route` to {@link Toolkit.routes}, unless the same route (method, path and
 * handler) is there already: mounted on a second app of the same toolkit.
 */
export function recordRoute(toolkit: Toolkit, route: Route): void {
  const routes = mountedRoutes.get(toolkit);
  const known = (r: Route) =>
    r.method === route.method && r.path === route.path && r.handler === route.handler;
  if (routes !== undefined && !routes.some(known)) routes.push(route);
}

/** Runs `fn` outside any async context: what {@link ToolkitRuntime.runInContext} is when nothing tracks it. */
function runUntracked<R>(_ctx: Context, fn: () => R): R {
  return fn();
}

/**
 * Creates the runtime that every adapter of one app shares.
 *
 * @example
 * ```ts
 * const toolkit = createToolkit({ plugins: [securityHeaders()], bodyLimit: 64 * 1024 });
 * const kit = createExpressAdapter(toolkit);
 * ```
 */
export function createToolkit(options: ToolkitOptions = {}): Toolkit {
  if ('asyncContext' in options) {
    throw new ConfigurationError(
      'createToolkit(): the asyncContext option was removed; requests are tracked when a plugin declares asyncContext: true.',
    );
  }
  const plugins = Object.freeze([...(options.plugins ?? [])]);
  const requestPlugins = plugins.filter((p) => p.onRequest !== undefined);
  const responsePlugins = plugins.filter((p) => p.onResponse !== undefined);
  const errorHooks: ((error: unknown, ctx: Context | undefined) => void)[] = [];
  for (const plugin of plugins) if (plugin.onError) errorHooks.push(plugin.onError.bind(plugin));
  if (options.onError) errorHooks.push(options.onError);
  const appDependencies = (options.dependencies ?? []).map(
    (dependency, index) => [`__app${index}`, dependency] as const,
  );
  const development = booleanOption('createToolkit', 'development', options.development, false);
  const asyncContext = plugins.some((plugin) => plugin.asyncContext === true);
  const overrides = new DependencyOverrides();

  const warnUnhandled = createUnhandledWarner();
  const callHooks = (error: unknown, ctx: Context | undefined): void => {
    for (const hook of errorHooks) {
      try {
        hook(error, ctx);
      } catch (hookError) {
        // An error hook must not turn one failure into two, nor hide it.
        warnUnhandled(hookError, 'onError hook');
      }
    }
  };
  const reportError = (error: unknown, ctx: Context | undefined, source = 'request'): void => {
    if (errorHooks.length === 0) warnUnhandled(error, source);
    else callHooks(error, ctx);
  };

  const runPluginsFrom = (ctx: Context, start: number): void | Reply | Promise<void | Reply> => {
    for (let i = start; i < requestPlugins.length; i++) {
      const result = (requestPlugins[i] as Plugin).onRequest?.(ctx);
      if (result instanceof Promise) {
        return result.then((reply) => (reply === undefined ? runPluginsFrom(ctx, i + 1) : reply));
      }
      if (result !== undefined) return result;
    }
    return undefined;
  };

  const routes: Route[] = [];
  const toolkit: ToolkitRuntime = Object.freeze({
    development,
    bodyLimit: positiveInteger('createToolkit', 'bodyLimit', options.bodyLimit, 1024 * 1024),
    maxJsonDepth: positiveInteger('createToolkit', 'maxJsonDepth', options.maxJsonDepth, 64),
    bodyTimeoutMs: positiveInteger('createToolkit', 'bodyTimeoutMs', options.bodyTimeoutMs, 30_000),
    deadlineMs: deadlineOption('createToolkit', options.deadlineMs) || undefined,
    asyncContext,
    plugins,
    observesResponses: responsePlugins.length > 0,
    overrides,
    get routes(): readonly Route[] {
      return Object.freeze([...routes]);
    },
    runPlugins: (ctx: Context) => runPluginsFrom(ctx, 0),
    prepareRoute(dependencies: DependencyMap): PreparedRoute {
      const entries = [...appDependencies, ...Object.entries(dependencies)];
      for (const [, dependency] of entries) {
        const cycle = findCycle(dependency, overrides);
        if (cycle) throw new DependencyCycleError(cycle);
      }
      return { entries };
    },
    renderError(error: unknown, ctx: Context | undefined): ProblemResponse {
      const problem = toProblem(error, { requestId: ctx?.requestId, development });
      // The client saw the 500: without hooks there is nothing more to say.
      if (problem.status >= 500) callHooks(error, ctx);
      return problem;
    },
    reportError,
    notifyResponse(ctx: Context, info: ResponseInfo): void {
      for (const plugin of responsePlugins) {
        try {
          plugin.onResponse?.(ctx, info);
        } catch (error) {
          reportError(error, ctx, `plugin "${plugin.name}" onResponse`);
        }
      }
    },
    runInContext: asyncContext ? runInContext : runUntracked,
  });
  mountedRoutes.set(toolkit, routes);
  return toolkit;
}
