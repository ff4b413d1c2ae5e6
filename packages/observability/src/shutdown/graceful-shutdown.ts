import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ConfigurationError } from '@org/core';
import { functionOption, nonNegativeInteger, positiveInteger } from '@org/core/adapter';
import { optionalLogger, type StructuredLogger } from '../internal/options.js';
import { runHooks, type ShutdownHook } from './run-hooks.js';

/**
 * What graceful shutdown needs from a server: any `node:http` or `node:https` server
 * (express and koa's `listen()` result, fastify's `app.server`, hono's `serve()`).
 */
export interface DrainableServer {
  /** Stops accepting connections; `callback` runs once every open connection has ended. */
  close(callback?: (error?: Error) => void): unknown;
  /** Closes the keep-alive connections that carry no request right now. */
  closeIdleConnections(): void;
  /** Closes every connection, in-flight requests included (at the drain deadline). */
  closeAllConnections(): void;
  /** Adds a `request` listener ahead of the others (to send `Connection: close` while draining). */
  prependListener(
    event: 'request',
    listener: (req: IncomingMessage, res: ServerResponse) => void,
  ): unknown;
  /** Accepted connections (`secureConnection` on a TLS server), to close at the drain those that sent nothing. */
  on(event: 'connection' | 'secureConnection', listener: (socket: Socket) => void): unknown;
}

/** Options of {@link gracefulShutdown}. */
export interface GracefulShutdownOptions {
  /** The server to drain. */
  server: DrainableServer;
  /** Turned to 503 the moment a signal arrives: pass the result of `createHealthChecks`. @default none */
  readiness?: {
    /** Makes readiness answer 503 from now on. */
    startDraining(): void;
  };
  /**
   * Milliseconds between the signal and closing the listener, while readiness already
   * fails, so load balancers stop sending traffic. Kubernetes: a few probe periods.
   * @default 5000
   */
  delayMs?: number;
  /** Milliseconds in-flight requests get to finish once the listener is closed; then their connections are cut. @default 10000 */
  timeoutMs?: number;
  /** Cleanup run after the server closed, in reverse order (last opened, first closed). @default [] */
  hooks?: readonly ShutdownHook[];
  /**
   * Called once the listener closed, to end the connections the HTTP server cannot close
   * itself: upgraded ones (WebSockets), which would otherwise hold the drain until its
   * deadline. A throw is logged and the drain goes on.
   * @default none
   * @example
   * ```ts
   * gracefulShutdown({ server, onDrain: () => { for (const ws of wss.clients) ws.close(1001); } });
   * ```
   */
  onDrain?: () => void;
  /** Milliseconds each hook may take before shutdown moves on. @default 5000 */
  hookTimeoutMs?: number;
  /** Signals that start the shutdown; a second one forces exit. @default ['SIGTERM', 'SIGINT'] */
  signals?: readonly NodeJS.Signals[];
  /** Ends the process. @default process.exit */
  exit?: (code: number) => void;
  /** Progress and failures. @default nothing is logged */
  logger?: StructuredLogger;
}

/** A running graceful-shutdown controller. */
export interface GracefulShutdown {
  /** Starts the shutdown as a signal would; resolves with the exit code, after `exit` was called. */
  shutdown(reason?: string): Promise<number>;
  /** Removes the signal listeners (tests, or handing shutdown to something else). */
  dispose(): void;
}

/** Exit code of a clean shutdown. */
export const EXIT_OK = 0;
/** Exit code when requests were cut at the deadline, a hook failed, or a second signal forced exit. */
export const EXIT_FORCED = 1;

const SWEEP_MS = 100;
/** How often the drain looks again whether replies ended before it still have bytes queued. */
const FLUSH_POLL_MS = 10;
const GIVE_UP_MS = 1000;

/**
 * Drains a server on SIGTERM/SIGINT: readiness fails at once; after `delayMs` the
 * listener closes (new connections are refused); in-flight requests get `timeoutMs` to
 * finish while idle keep-alive sockets, and connections that have sent nothing yet
 * (preconnects), are closed; then `hooks` run in reverse order and the process exits 0.
 * Requests cut at the deadline, failed hooks or a second signal exit 1.
 *
 * @example
 * ```ts
 * const server = createServer(app.handler).listen(3000);
 * gracefulShutdown({ server, readiness: health, hooks: [() => db.close(), () => redis.quit()] });
 * ```
 */
export function gracefulShutdown(options: GracefulShutdownOptions): GracefulShutdown {
  const where = 'gracefulShutdown';
  const server = options?.server;
  if (typeof server?.close !== 'function' || typeof server.closeIdleConnections !== 'function') {
    throw new ConfigurationError(
      `${where}: server must be a node:http server (fastify: app.server; express/koa: the result of listen()).`,
    );
  }
  const delayMs = nonNegativeInteger(where, 'delayMs', options.delayMs, 5000);
  const timeoutMs = positiveInteger(where, 'timeoutMs', options.timeoutMs, 10_000);
  const hookTimeoutMs = positiveInteger(where, 'hookTimeoutMs', options.hookTimeoutMs, 5000);
  const hooks = [...(options.hooks ?? [])];
  if (hooks.some((hook) => typeof hook !== 'function')) {
    throw new ConfigurationError(`${where}: hooks must be functions.`);
  }
  const signals = [...(options.signals ?? ['SIGTERM', 'SIGINT'])];
  const exit =
    functionOption(where, 'exit', options.exit, undefined) ?? ((code) => process.exit(code));
  const logger = optionalLogger(where, 'logger', options.logger, ['info', 'warn', 'error']);
  const onDrain = functionOption(where, 'onDrain', options.onDrain, undefined);
  const readiness = options.readiness;
  if (readiness !== undefined && typeof readiness.startDraining !== 'function') {
    throw new ConfigurationError(`${where}: readiness must come from createHealthChecks().`);
  }

  // Open connections, to close at the drain those that have sent nothing yet (a
  // browser's preconnect): Node's closeIdleConnections() skips them, and close() then
  // waits for them until the deadline. Nothing read means no request to cut. On a TLS
  // server, the TLS socket.
  const open = new Set<Socket>();
  const tls = typeof (server as { setSecureContext?: unknown }).setSecureContext === 'function';
  server.on(tls ? 'secureConnection' : 'connection', (socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  // Node's closeIdleConnections(), which close() runs too, counts a connection idle once
  // res.end() was called and destroys it with the reply's tail still queued.
  const flushing = (): boolean => {
    for (const socket of open) if (socket.writableLength > 0) return true;
    return false;
  };
  const closeUnused = (): void => {
    if (!flushing()) server.closeIdleConnections();
    for (const socket of open) if (socket.bytesRead === 0) socket.destroy();
  };

  let running: Promise<number> | undefined;

  const drain = async (): Promise<boolean> => {
    // Requests that arrive on kept-alive sockets during the drain are the last ones
    // on those sockets (RFC 9112 section 9.6: `Connection: close`).
    server.prependListener('request', (_req, res) => {
      if (!res.headersSent) res.setHeader('connection', 'close');
    });
    let cut = false;
    const deadlineAt = performance.now() + timeoutMs;
    while (flushing() && performance.now() < deadlineAt) {
      await new Promise((resolve) => setTimeout(resolve, FLUSH_POLL_MS));
    }
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    logger?.info({ timeout_ms: timeoutMs }, 'listener closed; draining in-flight requests');
    try {
      onDrain?.();
    } catch (error) {
      logger?.error({ err: error }, 'onDrain failed; draining anyway');
    }
    // close() drops the sockets idle now; responses still in flight leave theirs
    // kept alive, so keep sweeping until the server reports closed.
    closeUnused();
    const sweep = setInterval(closeUnused, SWEEP_MS);
    let deadline: NodeJS.Timeout | undefined;
    let giveUp: NodeJS.Timeout | undefined;
    const abandoned = new Promise<void>((resolve) => {
      deadline = setTimeout(
        () => {
          cut = true;
          logger?.warn(
            { timeout_ms: timeoutMs },
            'drain deadline passed; closing open connections',
          );
          server.closeAllConnections();
          // Upgraded sockets (WebSockets) are not HTTP connections the server can close:
          // do not let them hold the exit forever.
          giveUp = setTimeout(resolve, GIVE_UP_MS);
        },
        Math.max(0, deadlineAt - performance.now()),
      );
    });
    await Promise.race([closed, abandoned]);
    clearInterval(sweep);
    clearTimeout(deadline);
    clearTimeout(giveUp);
    return !cut;
  };

  const run = async (reason: string): Promise<number> => {
    logger?.info({ reason, delay_ms: delayMs }, 'shutdown started; readiness now fails');
    readiness?.startDraining();
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const drained = await drain();
    const hooksOk = await runHooks(hooks, hookTimeoutMs, logger);
    const code = drained && hooksOk ? EXIT_OK : EXIT_FORCED;
    logger?.info({ exit_code: code }, 'shutdown complete');
    exit(code);
    return code;
  };

  const shutdown = (reason = 'shutdown requested'): Promise<number> => {
    running ??= run(reason);
    return running;
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (running === undefined) {
      void shutdown(signal);
      return;
    }
    logger?.error({ signal }, 'second signal during shutdown; exiting now');
    exit(EXIT_FORCED);
  };
  for (const signal of signals) process.on(signal, onSignal);

  return {
    shutdown,
    dispose(): void {
      for (const signal of signals) process.off(signal, onSignal);
    },
  };
}
