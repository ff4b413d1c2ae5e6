// WebSockets through hono's `upgradeWebSocket` helper (`@hono/node-ws`): a route
// middleware runs the dependencies before the helper is called, and an `upgrade`
// listener dispatches each upgrade through the app and writes a refusal whole (the
// helper's own `injectWebSocket` sends only its status line).
import { Buffer } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Context as FrameworkContext, MiddlewareHandler } from 'hono';
import type { Context } from '../../context/context.js';
import type { DependencyMap, ResolvedValues } from '../../dependency/dependency.js';
import { ConfigurationError } from '../../errors/configuration-error.js';
import { BadRequestError } from '../../errors/http-error.js';
import { PROBLEM_CONTENT_TYPE } from '../../errors/problem.js';
import { type LifecycleRoute, runRoute } from '../../lifecycle/request-lifecycle.js';
import { type Toolkit, toolkitRuntime } from '../../toolkit/toolkit.js';
import {
  addHandshakeHeaders,
  endWithResponse,
  type Supervision,
  superviseConnection,
  type WebSocketExpiryOptions,
  type WebSocketLike,
} from '../../upgrade/connection.js';
import type { UpgradeListener, WebSocketServerLike } from '../../upgrade/upgrade-handler.js';
import { isWebSocketUpgrade } from '../../upgrade/websocket-protocol.js';
import { contextOf, type HonoContext } from './context.js';

/**
 * The hono environment of a WebSocket route: the resolved values as variables.
 *
 * @example
 * ```ts
 * type Env = WebSocketRouteEnv<{ user: typeof auth.currentUser }>; // c.get('user') is the user
 * ```
 */
export type WebSocketRouteEnv<M extends DependencyMap> = {
  /** The resolved value of each dependency, read with `c.get(name)`. */
  Variables: ResolvedValues<M>;
};

/**
 * hono's `WSContext` (`hono/ws`) as the toolkit and most handlers use it: a structural
 * subset, declared here so `@org/core/hono`'s types need no DOM library (hono's own
 * declare its events with the DOM's `MessageEvent` and `BinaryType`).
 *
 * @example
 * ```ts
 * const hello = (ws: HonoWSContext) => ws.send(JSON.stringify({ type: 'hello' }));
 * ```
 */
export interface HonoWSContext<T = unknown> {
  /** Sends a text or binary message. */
  send(
    data: string | ArrayBuffer | Uint8Array<ArrayBuffer>,
    options?: { compress?: boolean },
  ): void;
  /** Closes the connection. */
  close(code?: number, reason?: string): void;
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: 0 | 1 | 2 | 3;
  /** The underlying socket (`ws`'s `WebSocket` on `@hono/node-ws`). */
  raw?: T;
  /** The connection's URL, when known. */
  url: URL | null;
  /** The subprotocol agreed in the handshake, when any. */
  protocol: string | null;
}

/**
 * hono's `WSEvents` (`hono/ws`) with {@link HonoWSContext}: each handler also accepts
 * what hono passes (a DOM `MessageEvent`, `CloseEvent`).
 *
 * @example
 * ```ts
 * const events: HonoWebSocketEvents = { onMessage: (event, ws) => ws.send(String(event.data)) };
 * ```
 */
export interface HonoWebSocketEvents<T = unknown> {
  /** The connection opened. */
  onOpen?: (event: unknown, ws: HonoWSContext<T>) => void;
  /** A message arrived: a string for text, an `ArrayBuffer` (or `Blob`) for binary. */
  onMessage?: (event: { readonly data: unknown }, ws: HonoWSContext<T>) => void;
  /** The connection closed, with the peer's code and reason. */
  onClose?: (
    event: { readonly code: number; readonly reason: string },
    ws: HonoWSContext<T>,
  ) => void;
  /** The socket reported an error. */
  onError?: (event: unknown, ws: HonoWSContext<T>) => void;
}

/**
 * What {@link HonoAdapter.upgradeWebSocket} needs of hono's `upgradeWebSocket` (from
 * `@hono/node-ws`'s `createNodeWebSocket`): its `(c, events, options)` form.
 *
 * @example
 * ```ts
 * const { upgradeWebSocket } = createNodeWebSocket({ app }); // a HonoUpgradeWebSocket
 * ```
 */
export type HonoUpgradeWebSocket<T = unknown, U = unknown> = (
  c: FrameworkContext,
  events: HonoWebSocketEvents<T>,
  options?: U,
) => Promise<Response>;

/**
 * Options of {@link HonoAdapter.upgradeWebSocket}.
 *
 * @example
 * ```ts
 * kit.upgradeWebSocket(upgradeWebSocket, {
 *   dependencies: { user: auth.currentUser },
 *   events: (_c, { user }) => ({ onOpen: (_event, ws) => ws.send(user.id) }),
 *   closeOnExpiry: true,
 * });
 * ```
 */
export interface HonoWebSocketOptions<M extends DependencyMap, T, U>
  extends WebSocketExpiryOptions<Context, ResolvedValues<M>> {
  /**
   * Resolved before the handshake, as a route's (`auth.currentUser`, `requireRoles(...)`,
   * `auth.principal`); a failure is the route's problem and no connection is made.
   * @default {}
   */
  dependencies?: M;
  /**
   * The connection's event handlers (`onOpen`, `onMessage`, `onClose`, `onError`), given
   * hono's context (`c.get(name)` typed) and the resolved values. A throw or rejection of
   * a handler is reported to the toolkit's error hooks and closes with 1011.
   */
  events(
    c: FrameworkContext<WebSocketRouteEnv<M>>,
    values: ResolvedValues<M>,
  ): HonoWebSocketEvents<T> | Promise<HonoWebSocketEvents<T>>;
  /** Passed on to `upgradeWebSocket` as its options. @default undefined */
  upgradeOptions?: U;
}

/**
 * What {@link HonoAdapter.upgradeListener} needs of `@hono/node-ws`'s `wss` (a `ws`
 * `WebSocketServer`).
 *
 * @example
 * ```ts
 * const webSocketServer: HonoWebSocketServer = createNodeWebSocket({ app }).wss;
 * ```
 */
export interface HonoWebSocketServer extends WebSocketServerLike<unknown> {
  /** `ws`'s announcement of a connection, which `upgradeWebSocket` waits for. */
  emit(event: 'connection', ws: unknown, request: IncomingMessage): boolean;
}

/**
 * Options of {@link HonoAdapter.upgradeListener}.
 *
 * @example
 * ```ts
 * server.on('upgrade', kit.upgradeListener({ app, webSocketServer: wss }));
 * ```
 */
export interface HonoUpgradeListenerOptions {
  /** The app (with `kit.install`) whose routes answer the upgrades. */
  readonly app: {
    /** Hono's entry point; the upgrade's request comes with `env.incoming`. */
    fetch(request: Request, env: unknown): Response | Promise<Response>;
  };
  /** `createNodeWebSocket({ app }).wss`: completes the handshakes the routes accepted. */
  readonly webSocketServer: HonoWebSocketServer;
}

/** Upgrades a route accepted, for the listener to hand to the WebSocket server. */
const accepted = new WeakSet<IncomingMessage>();

/**
 * A {@link WebSocketLike} over hono's `WSContext`: the close event comes from the
 * wrapped `onClose`, and a peer's protocol errors are heard on the raw `ws` socket.
 */
function socketOf(ws: HonoWSContext<unknown>, closeListeners: (() => void)[]): WebSocketLike {
  return {
    close: (code, reason) => ws.close(code, reason),
    once: (_event, listener) => closeListeners.push(listener),
    on: (_event, listener) => {
      const raw = ws.raw as { on?: unknown } | undefined;
      if (typeof raw?.on === 'function') (raw as WebSocketLike).on('error', listener);
    },
  };
}

/** The user's events, supervised: expiry, error listener, failures reported with 1011. */
function supervisedEvents<T>(
  events: HonoWebSocketEvents<T>,
  start: (socket: WebSocketLike) => Supervision,
): HonoWebSocketEvents<T> {
  const closeListeners: (() => void)[] = [];
  let supervision: Supervision | undefined;
  const supervise = (ws: HonoWSContext<T>): Supervision => {
    supervision ??= start(socketOf(ws as HonoWSContext<unknown>, closeListeners));
    return supervision;
  };
  const { onOpen, onMessage, onClose, onError } = events;
  return {
    onOpen(event, ws) {
      const current = supervise(ws);
      if (onOpen !== undefined) current.run(() => onOpen(event, ws));
    },
    onMessage(event, ws) {
      if (onMessage !== undefined) supervise(ws).run(() => onMessage(event, ws));
    },
    onClose(event, ws) {
      for (const listener of closeListeners.splice(0)) listener();
      if (onClose !== undefined) supervise(ws).run(() => onClose(event, ws));
    },
    onError(event, ws) {
      if (onError !== undefined) supervise(ws).run(() => onError(event, ws));
    },
  };
}

/** Builds {@link HonoAdapter.upgradeWebSocket}'s middleware. */
export function upgradeWebSocketRoute<M extends DependencyMap, T, U>(
  toolkit: Toolkit,
  upgradeWebSocket: HonoUpgradeWebSocket<T, U>,
  options: HonoWebSocketOptions<M, T, U>,
): MiddlewareHandler<WebSocketRouteEnv<M>> {
  if (typeof upgradeWebSocket !== 'function' || typeof options?.events !== 'function') {
    throw new ConfigurationError(
      'kit.upgradeWebSocket(upgradeWebSocket, { events }): pass the upgradeWebSocket of @hono/node-ws and an events function.',
    );
  }
  const dependencies = options.dependencies ?? ({} as M);
  const names = Object.keys(dependencies);
  const route: LifecycleRoute<HonoContext, undefined, Record<string, unknown>> = {
    entries: toolkitRuntime(toolkit).prepareRoute(dependencies).entries,
    call: (_ctx, _arg, values) => values,
  };
  return async (c) => {
    const ctx = contextOf(c);
    ctx.request.bindRoute();
    if (!isWebSocketUpgrade(c.req.method, ctx.request.header('upgrade')))
      throw new BadRequestError({ detail: 'Expected a GET with Upgrade: websocket.' });
    // A refusal throws here: hono's error handler (the adapter's) answers the problem.
    const resolved = await runRoute(ctx, route, undefined);
    // As kit.route: each value under its name, for c.get(name).
    for (const name of names) (c as FrameworkContext).set(name, resolved[name]);
    const values = resolved as ResolvedValues<M>;
    const events = await options.events(c, values);
    const supervised = supervisedEvents(events, (socket) =>
      superviseConnection(socket, ctx, values, {
        ...options,
        toolkit,
        source: 'WebSocket event handler',
      }),
    );
    const response = await upgradeWebSocket(c, supervised, options.upgradeOptions);
    ctx.markUpgraded();
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    if (incoming !== undefined) accepted.add(incoming);
    return response;
  };
}

/** The `name: value` lines of a Response's headers. */
function headerLines(headers: Headers): string[] {
  const lines: string[] = [];
  for (const [name, value] of headers) lines.push(`${name}: ${value}`);
  return lines;
}

const UNREADABLE_DETAIL = 'The request target or Host cannot be read as a URL.';

/** A request for `app.fetch` from an upgrade's request line and headers. */
function toRequest(request: IncomingMessage): Request {
  const target = request.url ?? '/';
  // Origin-form only (RFC 9112 section 3.2.1): a target cannot name another host.
  if (!target.startsWith('/')) throw new BadRequestError({ detail: UNREADABLE_DETAIL });
  try {
    const headers = new Headers();
    const raw = request.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2)
      headers.append(raw[i] as string, raw[i + 1] as string);
    const host = request.headers.host ?? 'localhost';
    return new Request(new URL(`http://${host}${target}`), { headers });
  } catch (error) {
    throw new BadRequestError({ detail: UNREADABLE_DETAIL, cause: error });
  }
}

/** Builds {@link HonoAdapter.upgradeListener}'s listener. */
export function honoUpgradeListener(
  toolkit: Toolkit,
  options: HonoUpgradeListenerOptions,
): UpgradeListener {
  const { app, webSocketServer } = options;
  if (typeof app?.fetch !== 'function' || typeof webSocketServer?.handleUpgrade !== 'function') {
    throw new ConfigurationError(
      'kit.upgradeListener({ app, webSocketServer }): pass the hono app and createNodeWebSocket({ app }).wss.',
    );
  }
  const runtime = toolkitRuntime(toolkit);

  const refuse = async (socket: Duplex, response: Response): Promise<void> => {
    const body = Buffer.from(await response.arrayBuffer());
    if (!socket.destroyed)
      endWithResponse(socket, response.status, headerLines(response.headers), body);
  };

  const dispatch = async (
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
  ): Promise<void> => {
    let response: Response;
    try {
      // The bindings the adapter reads the client's address and headers from.
      response = await app.fetch(toRequest(request), { incoming: request, outgoing: undefined });
    } catch (error) {
      const problem = runtime.renderError(error, undefined);
      response = new Response(JSON.stringify(problem.body), {
        status: problem.status,
        headers: {
          ...problem.headers,
          'content-type': PROBLEM_CONTENT_TYPE,
          'x-content-type-options': 'nosniff',
        },
      });
    }
    if (socket.destroyed) return;
    if (!accepted.has(request)) {
      await refuse(socket, response);
      return;
    }
    accepted.delete(request);
    // The headers plugins set (rate limits, request id) go out with the `101`.
    addHandshakeHeaders(webSocketServer, request, () => headerLines(response.headers));
    webSocketServer.handleUpgrade(request, socket, head, (ws) => {
      // ws's noServer contract; `upgradeWebSocket` waits for this event.
      webSocketServer.emit('connection', ws, request);
    });
  };

  return (request, socket, head) => {
    // A reset during authentication must not crash the process: no listener is there yet.
    socket.on('error', () => socket.destroy());
    dispatch(request, socket, head).catch((error: unknown) => {
      runtime.reportError(error, undefined, 'WebSocket upgrade');
      socket.destroy();
    });
  };
}
