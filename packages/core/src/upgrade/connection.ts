// What every WebSocket integration does once the handshake is through, written once:
// `createUpgradeHandler` and the fastify and hono adapters share it.
import { Buffer } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Context } from '../context/context.js';
import { type Clock, systemClock } from '../toolkit/clock.js';
import type { Toolkit } from '../toolkit/toolkit.js';

/** Longest delay `setTimeout` takes (about 24.8 days); a later expiry re-arms. */
const MAX_DELAY = 2 ** 31 - 1;

/** What the expiry timer needs of a WebSocket: `ws`'s `WebSocket`. */
export interface WebSocketLike {
  /** Closes the connection (1008 when the token expired). */
  close(code?: number, reason?: string): void;
  /** Runs `listener` once the connection closed, to clear the expiry timer. */
  once(event: 'close', listener: () => void): unknown;
  /** Reports a peer's protocol error (a bad frame, a message over the size limit); `ws` closes the connection itself. */
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * When a connection's credentials expire, and whether it is closed then: the options
 * every WebSocket integration of the toolkit takes.
 *
 * @example
 * ```ts
 * const expiry: WebSocketExpiryOptions<Context, { session: { expiresAt: number } }> = {
 *   expiresAt: (_ctx, { session }) => session.expiresAt,
 * };
 * ```
 */
export interface WebSocketExpiryOptions<C extends Context, V> {
  /**
   * Close the connection with 1008 (policy violation) when its credentials expire.
   * @default true
   */
  closeOnExpiry?: boolean;
  /**
   * When the credentials expire, in epoch milliseconds, or undefined for never.
   * @default the earliest `exp` (seconds) of a resolved value or of its `claims`: include
   * `auth.principal` in `dependencies` when `loadUser` returns users without claims
   */
  expiresAt?: (ctx: C, values: V) => number | undefined;
  /** The clock `expiresAt` is compared with. @default systemClock */
  clock?: Clock;
}

/**
 * Closes `ws` with 1008 when `expiresAt` (epoch milliseconds) passes; the timer is
 * cleared when the connection closes first. Uses the global timers, so fake timers
 * drive it. Returns a function that cancels it.
 *
 * @example
 * ```ts
 * closeOnExpiry(ws, principal.claims.exp * 1000);
 * ```
 */
export function closeOnExpiry(
  ws: WebSocketLike,
  expiresAt: number,
  clock: Clock = systemClock,
): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    const left = expiresAt - clock.now();
    if (left <= 0) {
      timer = undefined;
      ws.close(1008, 'The access token expired.');
      return;
    }
    timer = setTimeout(arm, Math.min(left, MAX_DELAY));
    timer.unref?.();
  };
  const cancel = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  ws.once('close', cancel);
  arm();
  return cancel;
}

/** The earliest `exp` (seconds) of the values or their `claims`, in milliseconds. */
export function defaultExpiresAt(
  _ctx: unknown,
  values: Readonly<Record<string, unknown>>,
): number | undefined {
  let earliest: number | undefined;
  const consider = (exp: unknown): void => {
    if (
      typeof exp === 'number' &&
      Number.isFinite(exp) &&
      (earliest === undefined || exp < earliest)
    )
      earliest = exp;
  };
  for (const value of Object.values(values)) {
    if (typeof value !== 'object' || value === null) continue;
    const { exp, claims } = value as { exp?: unknown; claims?: { exp?: unknown } };
    consider(exp);
    if (typeof claims === 'object' && claims !== null) consider(claims.exp);
  }
  return earliest === undefined ? undefined : earliest * 1000;
}

const ignore = (): void => {};

/** A connection's supervision, from {@link superviseConnection}. */
export interface Supervision {
  /** Reports `error` to the toolkit's error hooks and closes the connection with 1011. */
  fail(error: unknown): void;
  /** Runs the user's `handler`; a throw or a rejection goes to {@link Supervision.fail}. */
  run(handler: () => unknown): void;
}

/**
 * Takes charge of an accepted connection: an `'error'` listener (a hostile peer's bad
 * frame is an `'error'` event; unheard, it would end the process), the expiry timer,
 * and the reporting of the user's failures (1011, RFC 6455 section 7.4.1).
 */
export function superviseConnection<C extends Context, V extends Readonly<Record<string, unknown>>>(
  ws: WebSocketLike,
  ctx: C,
  values: V,
  settings: WebSocketExpiryOptions<C, V> & { toolkit: Toolkit; source: string },
): Supervision {
  ws.on('error', ignore);
  if (settings.closeOnExpiry ?? true) {
    const at = (settings.expiresAt ?? defaultExpiresAt)(ctx, values);
    if (at !== undefined) closeOnExpiry(ws, at, settings.clock ?? systemClock);
  }
  const fail = (error: unknown): void => {
    settings.toolkit.reportError(error, ctx, settings.source);
    ws.close(1011);
  };
  return {
    fail,
    run(handler) {
      try {
        const result = handler();
        if (result instanceof Promise) result.catch(fail);
      } catch (error) {
        fail(error);
      }
    },
  };
}

/** What {@link addHandshakeHeaders} needs of a `ws` server: its `headers` event. */
export interface HandshakeHeadersSource {
  /** `ws` emits the `101`'s header lines here before writing them. */
  on(event: 'headers', listener: (headers: string[], request: IncomingMessage) => void): unknown;
}

/** Per `ws` server, the extra `101` header lines waiting for each request. */
const pendingHeaders = new WeakMap<object, WeakMap<IncomingMessage, () => readonly string[]>>();

/** The handshake's own fields, which are `ws`'s to write. */
function isHandshakeField(line: string): boolean {
  const name = line.slice(0, line.indexOf(':')).trim().toLowerCase();
  return (
    name === 'content-length' ||
    name === 'connection' ||
    name === 'upgrade' ||
    name.startsWith('sec-websocket-')
  );
}

/**
 * Has `server` add `lines()` (`name: value`) to the `101` it writes for `request`:
 * the headers plugins set (rate-limit headers, a request id). One `headers` listener
 * per server, added the first time; the lines are read when the handshake is written.
 */
export function addHandshakeHeaders(
  server: HandshakeHeadersSource,
  request: IncomingMessage,
  lines: () => readonly string[],
): void {
  let waiting = pendingHeaders.get(server);
  if (waiting === undefined) {
    const created = new WeakMap<IncomingMessage, () => readonly string[]>();
    waiting = created;
    pendingHeaders.set(server, created);
    server.on('headers', (headers, incoming) => {
      const take = created.get(incoming);
      if (take === undefined) return;
      created.delete(incoming);
      for (const line of take()) if (!isHandshakeField(line)) headers.push(line);
    });
  }
  waiting.set(request, lines);
}

/**
 * Writes a raw HTTP/1.1 response on an upgrade's socket with `Connection: close` and the
 * body's length, then closes the socket once it is flushed (as `ws`'s `abortHandshake`).
 */
export function endWithResponse(
  socket: Duplex,
  status: number,
  lines: readonly string[],
  body: Buffer,
): void {
  const head =
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
    lines
      .filter((line) => {
        const name = line.slice(0, line.indexOf(':')).toLowerCase();
        return name !== 'content-length' && name !== 'connection' && name !== 'transfer-encoding';
      })
      .map((line) => `${line}\r\n`)
      .join('') +
    `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]));
}
