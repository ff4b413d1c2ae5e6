// NestJS gateways on `@nestjs/platform-ws`: the handshake authenticated by the toolkit
// before the `101`, through `createUpgradeHandler`, and the values it resolved handed to
// the gateway per connection.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { WsAdapter } from '@nestjs/platform-ws';
import type { UpgradeContext } from '../../adapter/index.js';
import {
  ConfigurationError,
  createUpgradeHandler,
  type Dependency,
  type DependencyMap,
  type Toolkit,
  type UpgradeListener,
  type WebSocketExpiryOptions,
  type WebSocketLike,
  type WebSocketServerLike,
  webSocketProtocols,
} from '../../index.js';

/**
 * Options of {@link OrgWsAdapter}.
 *
 * @example
 * ```ts
 * app.useWebSocketAdapter(new OrgWsAdapter(app, {
 *   toolkit,
 *   dependencies: { principal: auth.principal },
 * }));
 * ```
 */
export interface OrgWsAdapterOptions
  extends WebSocketExpiryOptions<UpgradeContext, Readonly<Record<string, unknown>>> {
  /** The toolkit whose plugins (rate limits, request id) run for every upgrade. */
  readonly toolkit: Toolkit;
  /**
   * The dependencies every gateway's upgrade resolves before the `101`
   * (`auth.principal`, `auth.requireRoles('admin')`); a gateway adds its own with
   * {@link OrgGatewayOptions.dependencies}. Pass `{}` to let anyone connect.
   */
  readonly dependencies: DependencyMap;
  /**
   * What happens to an upgrade for a path no gateway serves on that server: `'reject'`
   * answers a 404 problem (Nest's `WsAdapter` destroys the socket), `'ignore'` leaves it
   * to another `upgrade` listener.
   * @default 'reject'
   */
  readonly unmatched?: 'reject' | 'ignore';
}

/**
 * The options of `@WebSocketGateway` that {@link OrgWsAdapter} reads, beside `ws`'s own
 * (`maxPayload`, `handleProtocols`...): pass it as the decorator's type argument to have
 * them checked.
 *
 * @example
 * ```ts
 * @WebSocketGateway<OrgGatewayOptions>({
 *   path: '/admin/ws',
 *   dependencies: { admin: auth.requireRoles('admin') },
 * })
 * class AdminGateway {}
 * ```
 */
export interface OrgGatewayOptions {
  /** The path the gateway answers on the app's server. @default '/' */
  readonly path?: string;
  /**
   * Dependencies resolved before the `101` for this gateway, after (and named over)
   * the adapter's {@link OrgWsAdapterOptions.dependencies}. @default {}
   */
  readonly dependencies?: DependencyMap;
  /** Any option of `ws`'s `WebSocketServer` (`maxPayload`, `handleProtocols`...). */
  readonly [option: string]: unknown;
}

/** The `ws` server `WsAdapter.create` makes, as far as this adapter uses it. */
interface GatewayServer extends WebSocketServerLike<WebSocketLike> {
  emit(event: 'connection', ws: WebSocketLike, request: IncomingMessage): boolean;
}

/**
 * Nest's `WsAdapter`, required on first import of this entry rather than imported: an
 * app that serves no gateway need not install `@nestjs/websockets` and
 * `@nestjs/platform-ws` (optional peers). Without them, constructing the adapter throws.
 */
function wsAdapterClass(): typeof WsAdapter {
  try {
    return (
      createRequire(import.meta.url)('@nestjs/platform-ws') as { WsAdapter: typeof WsAdapter }
    ).WsAdapter;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') throw error;
    return class MissingWsAdapter {
      constructor() {
        throw new ConfigurationError(
          'OrgWsAdapter needs @nestjs/websockets and @nestjs/platform-ws: install them beside @nestjs/core.',
        );
      }
    } as unknown as typeof WsAdapter;
  }
}

/** The upgrade context each accepted connection belongs to. */
const connections = new WeakMap<object, UpgradeContext>();

/** A gateway path as Nest's `WsAdapter` compares it: one leading slash, none trailing. */
function normalizePath(path: unknown): string {
  if (typeof path !== 'string' || path === '') return '/';
  return `/${path.replace(/\/+$/, '')}`.replace(/\/+/g, '/');
}

function pathnameOf(url: string | undefined): string {
  const target = url ?? '/';
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
}

/**
 * Nest's `WsAdapter` (`@nestjs/platform-ws`) with every gateway's handshake run by the
 * toolkit before the `101`, through `createUpgradeHandler`: the plugins (a
 * `rateLimitPlugin` counts upgrades like requests) and the dependencies of
 * {@link OrgWsAdapterOptions.dependencies} and {@link OrgGatewayOptions.dependencies}
 * (`auth.principal`, `auth.requireRoles(...)`, API keys). A refused upgrade is answered
 * as an `application/problem+json` problem (401, 403, 429 with `Retry-After`) and never
 * reaches the gateway. An accepted connection reaches `handleConnection(client, request)`
 * and the message handlers as with `WsAdapter`; read the values resolved for it with
 * {@link webSocketValue} (or `@Dep` in a `@SubscribeMessage` handler). The `101` answers
 * the `bearer` subprotocol of a browser's `Sec-WebSocket-Protocol: bearer, <token>`,
 * never the token, and the connection is closed with 1008 when its token expires.
 *
 * Nest's guards (`@UseGuards` on a gateway) run per message, after the handshake: they
 * cannot refuse the connection. This adapter is what refuses it.
 *
 * @example
 * ```ts
 * @WebSocketGateway<OrgGatewayOptions>({ path: '/ws', maxPayload: 65_536 })
 * class EchoGateway implements OnGatewayConnection {
 *   handleConnection(client: WebSocket) {
 *     const principal = webSocketValue(client, auth.principal);
 *     client.send(JSON.stringify({ type: 'hello', sub: principal.id }));
 *   }
 * }
 *
 * const app = await NestFactory.create(AppModule);
 * app.useWebSocketAdapter(new OrgWsAdapter(app, { toolkit, dependencies: { principal: auth.principal } }));
 * await app.listen(3000);
 * ```
 */
export class OrgWsAdapter extends wsAdapterClass() {
  readonly #options: OrgWsAdapterOptions;
  /** The gateways' upgrade listeners, by port and path. */
  readonly #gateways = new Map<number, Map<string, UpgradeListener>>();
  /** The `upgrade` listeners this adapter added, to take off on dispose. */
  readonly #listeners: [Server, UpgradeListener][] = [];
  readonly #open = new Set<WebSocketLike>();

  /**
   * @param app The Nest application (`NestFactory.create(...)`), whose HTTP server the
   * gateways without a port share.
   * @param options The toolkit and the dependencies of every gateway.
   */
  constructor(app: object, options: OrgWsAdapterOptions) {
    super(app);
    if (typeof options?.toolkit?.reportError !== 'function') {
      throw new ConfigurationError(
        'OrgWsAdapter: options.toolkit must be a toolkit (createToolkit()).',
      );
    }
    if (typeof options.dependencies !== 'object' || options.dependencies === null) {
      throw new ConfigurationError(
        'OrgWsAdapter: options.dependencies is required; pass {} to let anyone connect.',
      );
    }
    const { unmatched } = options;
    if (unmatched !== undefined && unmatched !== 'reject' && unmatched !== 'ignore') {
      throw new ConfigurationError(
        `OrgWsAdapter: unmatched must be 'reject' or 'ignore'; received ${JSON.stringify(unmatched)}.`,
      );
    }
    this.#options = options;
  }

  /** Called by Nest for each gateway: the `ws` server, its handshakes run by the toolkit. */
  override create(
    port: number,
    options: Record<string, unknown> & { namespace?: string; server?: unknown; path?: string } = {},
  ): unknown {
    const { dependencies, ...wsOptions } = options as OrgGatewayOptions;
    if (port === 0 ? !this.httpServer : options.path === undefined) {
      // `ws` would listen on a port of its own, with no way to run the toolkit first.
      throw new ConfigurationError(
        port === 0
          ? 'OrgWsAdapter needs the app: new OrgWsAdapter(app, { toolkit, dependencies }).'
          : `OrgWsAdapter: a gateway on port ${port} needs a path (@WebSocketGateway(${port}, { path })).`,
      );
    }
    const server = super.create(port, {
      handleProtocols: webSocketProtocols(),
      ...wsOptions,
    }) as GatewayServer;
    const path = normalizePath(options.path);
    let byPath = this.#gateways.get(port);
    if (byPath === undefined) this.#gateways.set(port, (byPath = new Map()));
    byPath.set(path, this.#handlerFor(server, path, dependencies ?? {}));
    return server;
  }

  /**
   * Called by `WsAdapter` once per port: listens for upgrades on `httpServer` (the app's
   * for port 0), dispatching each to its gateway by path, instead of `WsAdapter`'s
   * listener, which completes every handshake at once.
   */
  protected override ensureHttpServerExists(
    port: number,
    httpServer: Server = createServer(),
  ): Server | undefined {
    if (this.httpServersRegistry.has(port)) return undefined;
    this.httpServersRegistry.set(port, httpServer);
    const unmatched =
      this.#options.unmatched === 'ignore'
        ? undefined
        : createUpgradeHandler(this.#options.toolkit, { path: () => false, onUpgrade() {} });
    const listener: UpgradeListener = (request, socket, head) => {
      const handler = this.#gateways.get(port)?.get(pathnameOf(request.url));
      (handler ?? unmatched)?.(request, socket, head);
    };
    httpServer.on('upgrade', listener);
    this.#listeners.push([httpServer, listener]);
    return httpServer;
  }

  /**
   * Called by `WsAdapter` for each gateway's server: reports the server's errors to the
   * toolkit. A peer's protocol error (a bad frame) is not logged: the connection's own
   * listener ignores it and `ws` closes the connection.
   */
  override bindErrorHandler<
    S extends {
      /** `ws`'s server reports its own failures (a listen error) here. */
      on(event: 'error', listener: (error: Error) => void): unknown;
    },
  >(server: S): S {
    server.on('error', (error) =>
      this.#options.toolkit.reportError(error, undefined, 'WebSocket server'),
    );
    return server;
  }

  /**
   * Closes every open connection of every gateway, with 1001 (going away) unless told
   * otherwise: a graceful shutdown's drain calls it before the HTTP server closes.
   *
   * @example
   * ```ts
   * gracefulShutdown({ server, onDrain: () => adapter.closeConnections() });
   * ```
   */
  closeConnections(code = 1001, reason = 'The server is shutting down.'): void {
    for (const client of this.#open) client.close(code, reason);
  }

  /** Called by Nest on `app.close()`: takes this adapter's `upgrade` listeners off. */
  override async dispose(): Promise<void> {
    for (const [server, listener] of this.#listeners.splice(0)) server.off('upgrade', listener);
    await super.dispose();
  }

  #handlerFor(
    server: GatewayServer,
    path: string,
    gatewayDependencies: DependencyMap,
  ): UpgradeListener {
    const { toolkit, closeOnExpiry, expiresAt, clock } = this.#options;
    return createUpgradeHandler<DependencyMap, WebSocketLike>(toolkit, {
      path,
      dependencies: { ...this.#options.dependencies, ...gatewayDependencies },
      webSocketServer: server,
      onConnection: (client, ctx) => {
        connections.set(client, ctx);
        this.#open.add(client);
        client.once('close', () => this.#open.delete(client));
        // As `WsAdapter`'s own listener does: Nest's `bindClientConnect` listens for it.
        server.emit('connection', client, ctx.request.raw);
      },
      ...(closeOnExpiry === undefined ? {} : { closeOnExpiry }),
      ...(expiresAt === undefined ? {} : { expiresAt }),
      ...(clock === undefined ? {} : { clock }),
    });
  }
}

/**
 * The value of `dependency` for a WebSocket connection an {@link OrgWsAdapter} accepted:
 * the one resolved before the `101` (a dependency of the adapter's or the gateway's
 * `dependencies`, or one of theirs, as `auth.currentUser` under `requireRoles`), or a
 * synchronous one resolved now; memoized, overrides applied.
 *
 * @throws ConfigurationError when `client` was not accepted by an `OrgWsAdapter`, or
 * `dependency` was not resolved before the `101` and is asynchronous.
 *
 * @example
 * ```ts
 * handleConnection(client: WebSocket) {
 *   const principal = webSocketValue(client, auth.principal);
 *   client.send(JSON.stringify({ type: 'hello', sub: principal.id }));
 * }
 * ```
 */
export function webSocketValue<T>(client: object, dependency: Dependency<T>): T {
  const ctx = connections.get(client);
  if (ctx === undefined) {
    throw new ConfigurationError(
      'webSocketValue: this WebSocket was not accepted by an OrgWsAdapter: app.useWebSocketAdapter(new OrgWsAdapter(app, { toolkit, dependencies })).',
    );
  }
  const value = ctx.resolve(dependency);
  if (value instanceof Promise) {
    value.catch(() => {});
    throw new ConfigurationError(
      `webSocketValue: "${dependency.name}" was not resolved before the 101; add it to the adapter's or the gateway's dependencies.`,
    );
  }
  return value as T;
}
