import type { Buffer } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { DependencyMap, ResolvedValues } from '../dependency/dependency.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import { BadRequestError, NotFoundError } from '../errors/http-error.js';
import {
  failRequest,
  type LifecycleRoute,
  type RequestSteps,
  runRoute,
  startRequest,
} from '../lifecycle/request-lifecycle.js';
import { type Toolkit, toolkitRuntime } from '../toolkit/toolkit.js';
import {
  addHandshakeHeaders,
  superviseConnection,
  type WebSocketExpiryOptions,
  type WebSocketLike,
} from './connection.js';
import { UpgradeContext, UpgradeRequestView } from './upgrade-context.js';
import { isWebSocketUpgrade } from './websocket-protocol.js';

/** What `createUpgradeHandler` needs of a WebSocket server: `ws`'s `WebSocketServer({ noServer: true })`. */
export interface WebSocketServerLike<W> {
  /** Completes the handshake on `socket` and hands over the connected WebSocket. */
  handleUpgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    callback: (ws: W, request: IncomingMessage) => void,
  ): void;
  /** Lets the handler add the headers plugins set to the `101`. */
  on(event: 'headers', listener: (headers: string[], request: IncomingMessage) => void): unknown;
}

/** The Node `upgrade` listener {@link createUpgradeHandler} returns. */
export type UpgradeListener = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** Options shared by both ways of completing the handshake. */
interface UpgradeHandlerBase<M extends DependencyMap> {
  /**
   * The path (without query) this handler answers, or a test of it. Also the route
   * template plugins see (`ctx.request.route`), for rate limits keyed by route.
   * @default undefined (every path)
   */
  path?: string | ((path: string) => boolean);
  /**
   * What happens to an upgrade for another path: `'reject'` answers a 404 problem,
   * `'ignore'` leaves the socket to another `upgrade` listener.
   * @default 'reject'
   */
  unmatched?: 'reject' | 'ignore';
  /** The dependencies run before the `101`, as a route's (`auth.currentUser`, `requireRoles(...)`). @default {} */
  dependencies?: M;
  /**
   * A query parameter (`'access_token'`) an access token may come in when the request has
   * no `Authorization` header. Off unless set, and it emits a process warning: RFC 6750
   * section 2.3 says SHOULD NOT, since URLs end up in logs and history. The token is moved
   * into `Authorization: Bearer` for the dependencies and out of `ctx.request.query`.
   * @default undefined (never the query string)
   */
  queryToken?: string;
}

/** Options of {@link createUpgradeHandler} that complete the handshake with a `ws` server. */
export interface WebSocketUpgradeOptions<M extends DependencyMap, W extends WebSocketLike>
  extends UpgradeHandlerBase<M>,
    WebSocketExpiryOptions<UpgradeContext, ResolvedValues<M>> {
  /** `new WebSocketServer({ noServer: true, handleProtocols: webSocketProtocols() })` from `ws`. */
  webSocketServer: WebSocketServerLike<W>;
  /**
   * Called with each accepted connection, its context and the resolved dependencies. A
   * throw or rejection is reported to the toolkit's error hooks and closes with 1011.
   */
  onConnection(ws: W, ctx: UpgradeContext, values: ResolvedValues<M>): void | Promise<void>;
}

/** Options of {@link createUpgradeHandler} for a caller completing the handshake itself. */
export interface RawUpgradeOptions<M extends DependencyMap> extends UpgradeHandlerBase<M> {
  /**
   * Called once the plugins and dependencies passed, with the socket to complete the
   * handshake on; the expiry timer is the caller's (see {@link closeOnExpiry}).
   */
  onUpgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    ctx: UpgradeContext,
    values: ResolvedValues<M>,
  ): void;
}

/** Options of {@link createUpgradeHandler}. */
export type UpgradeHandlerOptions<M extends DependencyMap, W extends WebSocketLike> =
  | WebSocketUpgradeOptions<M, W>
  | RawUpgradeOptions<M>;

let queryWarned = false;

/** Drops the parameter `name` from a request target; returns its first value and the target without it. */
function takeQueryParam(url: string, name: string): { value: string | undefined; url: string } {
  const q = url.indexOf('?');
  if (q === -1) return { value: undefined, url };
  const params = new URLSearchParams(url.slice(q + 1));
  const value = params.get(name) ?? undefined;
  if (value === undefined) return { value, url };
  params.delete(name);
  const rest = params.toString();
  return { value, url: rest === '' ? url.slice(0, q) : `${url.slice(0, q)}?${rest}` };
}

/**
 * Authenticates WebSocket upgrades before the `101`, on any framework that runs on
 * Node's HTTP server (express, fastify, koa, hono on `@hono/node-server`, node:http):
 * returns a listener for `server.on('upgrade', ...)`. For each upgrade it builds an
 * {@link UpgradeContext}, runs the toolkit's plugins (rate limits apply to upgrades as
 * to requests) and the `dependencies` (`auth.currentUser`, `requireRoles`, API keys,
 * unchanged). A failure is answered on the raw socket as an `application/problem+json`
 * problem (401, 403, 429 with `Retry-After`...) with `Connection: close`, and the socket
 * is never handed on. On success it completes the handshake with `webSocketServer`
 * and calls `onConnection`, closing the connection with 1008 when the token expires;
 * or it hands `(request, socket, head, ctx, values)` to `onUpgrade`.
 *
 * @example
 * ```ts
 * import { WebSocketServer } from 'ws';
 * const wss = new WebSocketServer({ noServer: true, handleProtocols: webSocketProtocols() });
 * server.on('upgrade', createUpgradeHandler(toolkit, {
 *   path: '/api/v1/ws',
 *   dependencies: { user: auth.currentUser, principal: auth.principal },
 *   webSocketServer: wss,
 *   onConnection(ws, ctx, { user }) {
 *     ws.send(JSON.stringify({ type: 'hello', sub: user.id }));
 *     ws.on('message', (data) => ws.send(JSON.stringify({ type: 'echo', data: String(data) })));
 *   },
 * }));
 * ```
 */
export function createUpgradeHandler<
  M extends DependencyMap = Record<never, never>,
  W extends WebSocketLike = WebSocketLike,
>(toolkit: Toolkit, options: UpgradeHandlerOptions<M, W>): UpgradeListener {
  const runtime = toolkitRuntime(toolkit);
  const { path, queryToken } = options;
  const unmatched = options.unmatched ?? 'reject';
  if (unmatched !== 'reject' && unmatched !== 'ignore') {
    throw new ConfigurationError(
      `createUpgradeHandler: unmatched must be 'reject' or 'ignore'; received ${JSON.stringify(unmatched)}.`,
    );
  }
  if (path !== undefined && typeof path !== 'string' && typeof path !== 'function') {
    throw new ConfigurationError('createUpgradeHandler: path must be a string or a function.');
  }
  if (queryToken !== undefined) {
    if (typeof queryToken !== 'string' || queryToken === '') {
      throw new ConfigurationError('createUpgradeHandler: queryToken must be a parameter name.');
    }
    if (!queryWarned) {
      queryWarned = true;
      process.emitWarning(
        `createUpgradeHandler accepts access tokens in the query parameter '${queryToken}'.`,
        {
          type: 'OrgToolkitWarning',
          code: 'ORG_QUERY_TOKEN',
          detail:
            'RFC 6750 section 2.3: URLs end up in logs, history and Referer. Prefer Authorization or Sec-WebSocket-Protocol.',
        },
      );
    }
  }
  const withServer = 'webSocketServer' in options ? options : undefined;
  const raw = 'onUpgrade' in options ? options : undefined;
  if (withServer === undefined && raw === undefined) {
    throw new ConfigurationError(
      'createUpgradeHandler needs webSocketServer and onConnection, or onUpgrade.',
    );
  }
  if (withServer !== undefined && typeof withServer.onConnection !== 'function') {
    throw new ConfigurationError('createUpgradeHandler: onConnection must be a function.');
  }
  const matches =
    path === undefined ? () => true : typeof path === 'string' ? (p: string) => p === path : path;

  const upgrade = (ctx: UpgradeContext, head: Buffer, values: ResolvedValues<M>): void => {
    const { socket } = ctx;
    if (socket.destroyed) return;
    const request = ctx.request.raw;
    if (raw !== undefined) {
      ctx.markUpgraded();
      raw.onUpgrade(request, socket, head, ctx, values);
      return;
    }
    const settings = withServer as WebSocketUpgradeOptions<M, W>;
    const server = settings.webSocketServer;
    addHandshakeHeaders(server, request, () => ctx.takeHandshakeHeaders());
    server.handleUpgrade(request, socket, head, (ws) => {
      ctx.markUpgraded();
      const supervision = superviseConnection(ws, ctx, values, {
        ...settings,
        toolkit,
        source: 'WebSocket onConnection',
      });
      supervision.run(() => settings.onConnection(ws, ctx, values));
    });
  };

  const route: LifecycleRoute<UpgradeContext, Buffer, void> = {
    ...runtime.prepareRoute(options.dependencies ?? {}),
    call: (ctx, head, values) => upgrade(ctx, head, values as ResolvedValues<M>),
  };

  const steps: RequestSteps<UpgradeContext, Buffer, void> = {
    proceed(ctx, head) {
      try {
        const result = runRoute(ctx, route, head);
        if (result instanceof Promise) result.catch((error: unknown) => failRequest(ctx, error));
      } catch (error) {
        failRequest(ctx, error);
      }
    },
    fail: (ctx, _head, error) => failRequest(ctx, error),
  };

  return (request, socket, head) => {
    let url = request.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    const matched = matches(pathname);
    if (!matched && unmatched === 'ignore') return;
    // A reset during authentication must not crash the process: no listener is there yet.
    socket.on('error', () => socket.destroy());
    let authorization: string | undefined;
    if (queryToken !== undefined) {
      const taken = takeQueryParam(url, queryToken);
      url = taken.url;
      if (taken.value !== undefined && request.headers.authorization === undefined)
        authorization = `Bearer ${taken.value}`;
    }
    const view = new UpgradeRequestView(request, toolkit, url, authorization);
    if (typeof path === 'string') view.route = path;
    const ctx = new UpgradeContext(view, socket, toolkit);
    if (!matched) {
      failRequest(ctx, new NotFoundError());
      return;
    }
    if (!isWebSocketUpgrade(request.method, request.headers.upgrade)) {
      failRequest(ctx, new BadRequestError({ detail: 'Expected a GET with Upgrade: websocket.' }));
      return;
    }
    void startRequest(ctx, head, steps);
  };
}
