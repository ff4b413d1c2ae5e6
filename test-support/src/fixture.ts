import type { DependencyMap, Route, Toolkit } from '@org/core';
import type { NodeServer, StartOptions, Transport } from './transport.js';

/** The adapters every feature must pass on. */
export type AdapterName = 'express' | 'fastify' | 'koa' | 'hono' | 'node';

/**
 * A framework-neutral route for tests, mounted with the adapter's `mount` (`app.mount`
 * on node). Marked `native`, it goes the framework's own way instead: `kit.route(...)`,
 * its values read back from where the framework exposes them (`req.user`,
 * `request.user`, `ctx.state.user`, `c.get('user')`) and its reply sent with the
 * framework's own response methods, so exposure and those methods are tested too.
 */
export interface RouteSpec extends Omit<Route, 'dependencies'> {
  /** What the handler's values come from. @default {} */
  dependencies?: DependencyMap;
  /**
   * Mount it the framework's own way (`kit.route` and its response methods). Only then
   * may a reply's `body` be a {@link StreamBody} or a {@link FileBody}, which each
   * fixture sends its framework's way.
   * @default false
   */
  native?: true;
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
