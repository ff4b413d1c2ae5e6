import type { Context, DependencyMap, Reply, Toolkit } from '@org/core';

/** The adapters every feature must pass on. */
export type AdapterName = 'express' | 'fastify' | 'koa' | 'hono' | 'node';

/**
 * A framework-neutral route for tests. Each fixture mounts it the framework's
 * idiomatic way (`kit.route(...)`) and hands the handler the values it read back
 * from the idiomatic place (`req.user`, `request.user`, `ctx.state.user`,
 * `c.get('user')`), so exposure is tested too.
 */
export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Template in `:param` form, for example `/users/:id`. */
  path: string;
  dependencies?: DependencyMap;
  handler: (
    ctx: Context,
    values: Record<string, unknown>,
  ) => Reply | undefined | Promise<Reply | undefined>;
}

/** A running test app on a loopback port. */
export interface RunningApp {
  /** Base URL, for example `http://127.0.0.1:41234`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Builds and starts an app on one adapter. */
export interface AdapterFixture {
  readonly name: AdapterName;
  start(toolkit: Toolkit, routes: readonly RouteSpec[]): Promise<RunningApp>;
}
