// WebSocket routes through `@fastify/websocket`: the plugin dispatches each upgrade
// through fastify's routing and hooks, so the adapter's `onRequest` runs the toolkit's
// plugins, a route `preHandler` runs the dependencies before the `101`, and a refusal is
// fastify's own reply (the adapter's problem) on the upgrade's socket.
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  preHandlerHookHandler,
  RouteHandlerMethod,
} from 'fastify';
import type { Context } from '../../context/context.js';
import type { DependencyMap, ResolvedValues } from '../../dependency/dependency.js';
import { ConfigurationError } from '../../errors/configuration-error.js';
import { BadRequestError } from '../../errors/http-error.js';
import { type LifecycleRoute, runRoute } from '../../lifecycle/request-lifecycle.js';
import { type Toolkit, toolkitRuntime } from '../../toolkit/toolkit.js';
import {
  addHandshakeHeaders,
  type HandshakeHeadersSource,
  superviseConnection,
  type WebSocketExpiryOptions,
  type WebSocketLike,
} from '../../upgrade/connection.js';
import { contextOf, type FastifyContext } from './context.js';

/**
 * The WebSocket `@fastify/websocket` hands its handlers (`ws`'s `WebSocket`), read from
 * the types it declares on fastify; {@link WebSocketLike} where they are not loaded.
 * Nothing is imported from `@fastify/websocket`, so using `@org/core/fastify` never
 * loads its declarations into a program that does not use it.
 *
 * @example
 * ```ts
 * const greet = (socket: FastifyWebSocket) => socket.close(1000);
 * ```
 */
export type FastifyWebSocket = FastifyInstance extends {
  /** The `ws` server `@fastify/websocket` decorates fastify with. */
  websocketServer: infer S;
}
  ? S extends {
      /** Its open connections, typed as its handlers receive them. */
      clients: Set<infer W>;
    }
    ? W
    : WebSocketLike
  : WebSocketLike;

/** What `@fastify/websocket` decorates fastify with: its `ws` server and `request.ws`. */
interface WebSocketDecorations {
  readonly websocketServer: HandshakeHeadersSource;
}

/**
 * The connection handler of {@link FastifyAdapter.webSocket}: `@fastify/websocket`'s
 * `(socket, request)`, plus the dependencies resolved before the handshake.
 *
 * @example
 * ```ts
 * const hello: FastifyWebSocketHandler<{ user: typeof auth.currentUser }> = (socket, _request, { user }) =>
 *   socket.send(JSON.stringify({ type: 'hello', sub: user.id }));
 * app.get('/ws', kit.webSocket({ user: auth.currentUser }, hello));
 * ```
 */
export type FastifyWebSocketHandler<M extends DependencyMap> = (
  this: FastifyInstance,
  socket: FastifyWebSocket,
  request: FastifyRequest,
  values: ResolvedValues<M>,
) => void | Promise<void>;

/**
 * Options of {@link FastifyAdapter.webSocket}: when a connection's credentials expire.
 *
 * @example
 * ```ts
 * kit.webSocket({ user: auth.currentUser }, onConnection, { closeOnExpiry: false });
 * ```
 */
export type FastifyWebSocketOptions<M extends DependencyMap> = WebSocketExpiryOptions<
  Context,
  ResolvedValues<M>
>;

/**
 * Route options for `app.route` or `app.get` (`@fastify/websocket` registered first):
 * the dependencies in a `preHandler`, `@fastify/websocket`'s `wsHandler` for upgrades,
 * and a `handler` that answers a plain `GET` with a 400 problem.
 *
 * @example
 * ```ts
 * app.route({ method: 'GET', url: '/ws', ...kit.webSocket({ user: auth.currentUser }, onConnection) });
 * ```
 */
export interface FastifyWebSocketRoute {
  /** Resolves the dependencies before the handshake; a failure is the route's problem. */
  readonly preHandler: preHandlerHookHandler;
  /** A `GET` without `Upgrade: websocket`: a 400 problem. */
  readonly handler: RouteHandlerMethod;
  /** Called by `@fastify/websocket` with each accepted connection. */
  readonly wsHandler: (
    this: FastifyInstance,
    socket: FastifyWebSocket,
    request: FastifyRequest,
  ) => void;
}

/** The `name: value` lines of the headers set on a reply, for the `101`. */
function replyHeaderLines(reply: FastifyReply): string[] {
  const lines: string[] = [];
  const headers = reply.getHeaders();
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (Array.isArray(value)) for (const v of value) lines.push(`${name}: ${v}`);
    else if (value !== undefined) lines.push(`${name}: ${String(value)}`);
  }
  return lines;
}

const NOT_AN_UPGRADE = (): never => {
  throw new BadRequestError({ detail: 'Expected a GET with Upgrade: websocket.' });
};

/** Builds {@link FastifyAdapter.webSocket}'s route options. */
export function webSocketRoute<M extends DependencyMap>(
  toolkit: Toolkit,
  dependencies: M,
  handler: FastifyWebSocketHandler<M>,
  options: FastifyWebSocketOptions<M> = {},
): FastifyWebSocketRoute {
  const route: LifecycleRoute<FastifyContext, undefined, Record<string, unknown>> = {
    entries: toolkitRuntime(toolkit).prepareRoute(dependencies).entries,
    call: (_ctx, _arg, values) => values,
  };
  /** The values of each upgrade between its `preHandler` and its connection. */
  const admitted = new WeakMap<FastifyRequest, Record<string, unknown>>();

  const preHandler: preHandlerHookHandler = function (this: FastifyInstance, request, reply, done) {
    // A plain GET goes on to `handler`; only an upgrade has dependencies to pass.
    if ((request as { ws?: boolean }).ws !== true) return done();
    const server = (this as unknown as WebSocketDecorations).websocketServer;
    const admit = (values: Record<string, unknown>): void => {
      admitted.set(request, values);
      // The headers plugins set (rate limits, request id) go out with the `101`.
      addHandshakeHeaders(server, request.raw, () => replyHeaderLines(reply));
      done();
    };
    let result: Record<string, unknown> | Promise<Record<string, unknown>>;
    try {
      result = runRoute(contextOf(request), route, undefined);
    } catch (error) {
      done(error as Error);
      return;
    }
    if (result instanceof Promise) result.then(admit, done);
    else admit(result);
  };

  return {
    preHandler,
    handler: NOT_AN_UPGRADE,
    wsHandler(socket, request) {
      const values = admitted.get(request);
      admitted.delete(request);
      const ctx = contextOf(request);
      ctx.markUpgraded();
      const supervision = superviseConnection(
        socket as WebSocketLike,
        ctx,
        (values ?? {}) as ResolvedValues<M>,
        {
          ...options,
          toolkit,
          source: 'WebSocket handler',
        },
      );
      // Only a request whose preHandler passed has values: the route lost its preHandler.
      if (values === undefined) {
        supervision.fail(
          new ConfigurationError(
            'kit.webSocket(): register the preHandler it returns together with its wsHandler.',
          ),
        );
        return;
      }
      supervision.run(() => handler.call(this, socket, request, values as ResolvedValues<M>));
    },
  };
}
