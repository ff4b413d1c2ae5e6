import type { Context, DependencyMap, Reply, Toolkit } from '@org/core';
import type { NodeServer, StartOptions, Transport } from './transport.js';

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
  /**
   * Returns a neutral reply (undefined sends 204). Its `body` may also be a
   * {@link StreamBody} or a {@link FileBody}, which each fixture sends its framework's way.
   */
  handler: (
    ctx: Context,
    values: Record<string, unknown>,
  ) => Reply | undefined | Promise<Reply | undefined>;
}

/** A running test app on a loopback port. */
export interface RunningApp {
  /** Base URL, for example `http://127.0.0.1:41234` (`https:` over TLS). */
  readonly url: string;
  /** The transport it serves. */
  readonly transport: Transport;
  /** The listening server, for `upgrade` listeners or a graceful shutdown. */
  readonly server: NodeServer;
  /** Stops listening and cuts every connection, upgraded sockets and HTTP/2 sessions too. */
  close(): Promise<void>;
}

/** Builds and starts an app on one adapter. */
export interface AdapterFixture {
  readonly name: AdapterName;
  /** The transports the framework can serve; `start` throws for the others. */
  readonly transports: readonly Transport[];
  /** Starts the app, over plain HTTP unless `options.transport` says otherwise. */
  start(
    toolkit: Toolkit,
    routes: readonly RouteSpec[],
    options?: StartOptions,
  ): Promise<RunningApp>;
}
