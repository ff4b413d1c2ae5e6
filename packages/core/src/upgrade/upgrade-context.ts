import { Buffer } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  checkedHeader,
  type HeaderRecord,
  NodeRequestView,
  serializeBody,
} from '../internal/node-request.js';
import { AdapterContext } from '../lifecycle/adapter-context.js';
import type { Reply } from '../toolkit/plugin.js';
import type { Toolkit } from '../toolkit/toolkit.js';
import { endWithResponse } from './connection.js';

/**
 * A request view over an upgrade request. With a query token allowed, the token moves
 * from the query string into an `Authorization: Bearer` header the dependencies read,
 * and out of `query` and the URL that logs see.
 */
export class UpgradeRequestView extends NodeRequestView {
  readonly #authorization: string | undefined;

  constructor(raw: IncomingMessage, toolkit: Toolkit, url: string, authorization?: string) {
    super(raw, toolkit, url);
    this.#authorization = authorization;
  }

  override header(name: string): string | undefined {
    if (this.#authorization !== undefined && name.toLowerCase() === 'authorization')
      return this.#authorization;
    return super.header(name);
  }

  override headerValues(name: string): readonly string[] {
    if (this.#authorization !== undefined && name.toLowerCase() === 'authorization')
      return [this.#authorization];
    return super.headerValues(name);
  }
}

/**
 * The {@link AdapterContext} of a WebSocket upgrade (`server.on('upgrade')`): there is no
 * `ServerResponse`, only the socket. A refusal ({@link UpgradeContext.sendReply}) is
 * written as a raw HTTP/1.1 response and the socket closed; headers set by plugins
 * (rate-limit headers, a request id) go out with the refusal, or with the `101` when the
 * handshake goes through `createUpgradeHandler`'s `webSocketServer`. The request ends
 * (teardowns, `onResponse`) when the socket closes: after the refusal, or when the
 * WebSocket connection ends.
 */
export class UpgradeContext extends AdapterContext {
  override readonly request: NodeRequestView;
  /** The upgrade's socket, before the handshake. */
  readonly socket: Duplex;
  #headers: HeaderRecord = {};
  #status: number | undefined;
  #bytes = 0;

  constructor(request: NodeRequestView, socket: Duplex, toolkit: Toolkit) {
    super(request, toolkit);
    this.request = request;
    this.socket = socket;
  }

  setHeader(name: string, value: string): void {
    if (this.#status === undefined) this.#headers[checkedHeader(name, value)] = value;
  }

  appendHeader(name: string, value: string): void {
    if (this.#status !== undefined) return;
    const key = checkedHeader(name, value);
    const current = Object.hasOwn(this.#headers, key) ? this.#headers[key] : undefined;
    this.#headers[key] =
      current === undefined
        ? value
        : Array.isArray(current)
          ? [...current, value]
          : [String(current), value];
  }

  removeHeader(name: string): void {
    if (this.#status === undefined) delete this.#headers[name.toLowerCase()];
  }

  /** Whether a refusal was written or the handshake answered. */
  get headersSent(): boolean {
    return this.#status !== undefined;
  }

  /** The status sent: a refusal's, or 101 once the socket was handed on; undefined before. */
  get status(): number | undefined {
    return this.#status;
  }

  /**
   * The headers plugins and dependencies set, as `name: value` lines for the `101`
   * (`ws` emits them to its `headers` listeners). Marks the context upgraded: later
   * header changes are ignored.
   */
  takeHandshakeHeaders(): string[] {
    this.#status = 101;
    return headerLines(this.#headers);
  }

  /** Marks the socket handed on (the caller completes the handshake). */
  markUpgraded(): void {
    this.#status ??= 101;
  }

  /** Finishes the context when the socket closes (see {@link AdapterContext.finish}). */
  protected override watchEnd(): void {
    const done = (): void => {
      const status = this.#status;
      void this.finish({
        status: status ?? 0,
        aborted: status === undefined,
        error: this.failure,
        bytes: this.#bytes,
      });
    };
    if (this.socket.destroyed) queueMicrotask(done);
    else this.socket.once('close', done);
  }

  /** Writes `reply` as a raw HTTP/1.1 response with `Connection: close`, then closes the socket. */
  sendReply(reply: Reply): void {
    if (this.#status !== undefined || this.socket.destroyed || !this.socket.writable) {
      this.socket.destroy();
      return;
    }
    const status = reply.status ?? 200;
    const payload = serializeBody(reply.body);
    const headers: HeaderRecord = { ...this.#headers };
    if (reply.headers !== undefined) {
      for (const name of Object.keys(reply.headers)) {
        const value = reply.headers[name] as string;
        headers[checkedHeader(name, value)] = value;
      }
    }
    if (payload !== reply.body && headers['content-type'] === undefined)
      headers['content-type'] = 'application/json; charset=utf-8';
    const body = payload === undefined ? Buffer.alloc(0) : Buffer.from(payload);
    this.#status = status;
    this.#bytes = body.length;
    endWithResponse(this.socket, status, headerLines(headers), body);
  }

  dropContentHeaders(): void {
    delete this.#headers['content-length'];
    delete this.#headers['content-encoding'];
  }

  abort(): void {
    this.socket.destroy();
  }
}

/** `name: value` lines of a header record; an array gives one line per value. */
function headerLines(headers: HeaderRecord): string[] {
  const lines: string[] = [];
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (Array.isArray(value)) for (const v of value) lines.push(`${name}: ${v}`);
    else if (value !== undefined) lines.push(`${name}: ${String(value)}`);
  }
  return lines;
}
