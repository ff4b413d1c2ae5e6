import { Buffer } from 'node:buffer';
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Context as FrameworkContext } from 'hono';
import type { StatusCode } from 'hono/utils/http-status';
import { ConfigurationError } from '../../errors/configuration-error.js';
import { trackResponse } from '../../internal/current-response.js';
import {
  appendPendingHeader,
  type HeaderRecord,
  removePendingHeader,
  responseOutcome,
  serializeBody,
  setPendingHeader,
  whenClosed,
} from '../../internal/node-request.js';
import { AdapterContext, type ResponseWriter } from '../../lifecycle/adapter-context.js';
import { failRequest, writeProblem } from '../../lifecycle/request-lifecycle.js';
import type { Reply } from '../../toolkit/plugin.js';
import type { Toolkit, ToolkitRuntime } from '../../toolkit/toolkit.js';
import { HonoRequestView, type NodeBindings } from './request-view.js';

/**
 * {@link Context} of a hono request. Headers set through it wait in a plain record
 * (validated once per name and value, as the node adapter's; a `Headers` would check
 * every byte of every value again) and go under the final Response when the adapter's middleware resumes (see
 * {@link HonoContext.applyHeaders}): the same for hono's own responses, a handler's raw
 * `Response`, errors and 404s, and a handler's own value wins.
 */
export class HonoContext extends AdapterContext {
  override readonly request: HonoRequestView;
  readonly #outgoing: ServerResponse | undefined;
  /** An upgrade's socket, when the request came from Node's `upgrade` event. */
  readonly #socket: Duplex | undefined;
  /** An upgrade's status: 101 once handed to the WebSocket server, else the Response's. */
  #upgradeStatus: number | undefined;
  #headers: HeaderRecord | undefined;
  /** The last Response {@link HonoContext.sendReply} built, whose length is known. */
  #built: Response | undefined;
  /** Body bytes of the final Response, when it declares them. */
  bytes = 0;
  /** The Response {@link HonoContext.sendReply} built, for the adapter to hand to hono. */
  response: Response | undefined = undefined;

  constructor(c: FrameworkContext, toolkit: Toolkit, bindings: NodeBindings | undefined) {
    const request = new HonoRequestView(c, toolkit, bindings?.incoming);
    super(request, toolkit);
    this.request = request;
    this.#outgoing = bindings?.outgoing;
    this.#socket =
      bindings !== undefined && bindings.outgoing === undefined
        ? bindings.incoming.socket
        : undefined;
    if (bindings?.outgoing !== undefined) trackResponse(bindings.outgoing);
  }

  /** An upgrade handed to the WebSocket server: the request ends when the connection does. */
  markUpgraded(): void {
    this.#upgradeStatus = 101;
  }

  /**
   * On node-server, finishes the context once the response was really sent, or the client
   * left first (see {@link AdapterContext.finish}); an upgrade, once its socket closed
   * (after the refusal, or when the WebSocket connection ends). In-process, the adapter
   * finishes it when the Response is built.
   */
  protected override watchEnd(): void {
    const outgoing = this.#outgoing;
    const socket = this.#socket;
    if (socket !== undefined) {
      const done = (): void => {
        const status = this.#upgradeStatus;
        void this.finish({
          status: status ?? 0,
          aborted: status === undefined,
          error: this.failure,
          bytes: this.bytes,
        });
      };
      if (socket.destroyed) queueMicrotask(done);
      else socket.once('close', done);
      return;
    }
    if (outgoing === undefined) return;
    whenClosed(outgoing, () => {
      void this.finish(responseOutcome(outgoing, this.failure, this.bytes));
    });
  }

  /**
   * Puts the headers set through this context under `response`: a value the response
   * has wins; `Vary` and `Set-Cookie` keep this context's values first. Returns the
   * response to send (a copy when its headers are immutable, as `Response.redirect`'s).
   */
  applyHeaders(response: Response): Response {
    const pending = this.#headers;
    this.#headers = undefined;
    // A reply of ours, with nothing to add: its length is known, and reading its headers
    // would turn @hono/node-server's plain header record into a Headers object (about
    // 1 µs a request, measured with bench:inproc).
    if (pending === undefined && response === this.#built) return response;
    let target = response;
    if (pending !== undefined) {
      try {
        mergeUnder(target.headers, pending);
      } catch {
        target = new Response(response.body, response);
        mergeUnder(target.headers, pending);
      }
    }
    this.bytes = Number(target.headers.get('content-length')) || this.bytes;
    return target;
  }

  setHeader(name: string, value: string): void {
    if (!this.headersSent) setPendingHeader((this.#headers ??= {}), name, value);
  }

  appendHeader(name: string, value: string): void {
    if (!this.headersSent) appendPendingHeader((this.#headers ??= {}), name, value);
  }

  removeHeader(name: string): void {
    if (this.headersSent) return;
    if (this.#headers !== undefined) removePendingHeader(this.#headers, name);
    if (this.request.c.finalized) this.request.c.header(name, undefined);
  }

  /** In-process, headers stay open until the Response is returned. */
  get headersSent(): boolean {
    return this.#outgoing?.headersSent ?? false;
  }

  sendReply(reply: Reply): void {
    this.response = toResponse(this.request.c, reply, this);
    this.#built = this.response;
  }

  /** What {@link HonoContext.sendReply} wrote (else hono's own response), taken once. */
  takeResponse(): Response {
    const response = this.response ?? this.request.c.res;
    this.response = undefined;
    return response;
  }

  /** The headers set through the context go on `response`; in-process, the request ends here. */
  finalize(response: Response): Response {
    const sent = this.applyHeaders(response);
    if (this.#socket !== undefined) this.#upgradeStatus ??= sent.status;
    else if (this.#outgoing === undefined) {
      void this.finish({
        status: sent.status,
        aborted: false,
        error: this.failure,
        bytes: this.bytes,
      });
    }
    return sent;
  }

  dropContentHeaders(): void {
    dropContentHeaders(this.request.c);
  }

  abort(): void {
    (this.#outgoing ?? this.#socket)?.destroy();
  }
}

/** The hono variable (`c.get`) holding the toolkit context of a request. */
export const CONTEXT_VARIABLE = '@org/core.context';

/** The toolkit context of a request; a {@link ConfigurationError} when the app was not installed. */
export function contextOf(c: FrameworkContext): HonoContext {
  const ctx = c.get(CONTEXT_VARIABLE) as HonoContext | undefined;
  if (ctx !== undefined) return ctx;
  throw new ConfigurationError(
    'No toolkit context for this hono request: call kit.install(app) before adding routes.',
  );
}

/** `error` as a problem Response, for hono's error and 404 handlers. */
export function problemOf(c: FrameworkContext, error: unknown, toolkit: ToolkitRuntime): Response {
  const ctx = c.get(CONTEXT_VARIABLE) as HonoContext | undefined;
  if (ctx !== undefined) {
    failRequest(ctx, error);
    return ctx.takeResponse();
  }
  const writer = honoWriter(c);
  writeProblem(writer, toolkit.renderError(error, undefined));
  return writer.response ?? c.res;
}

/** A {@link ResponseWriter} over hono's context, for errors of an app without the adapter's middleware. */
export function honoWriter(c: FrameworkContext): ResponseWriter & HonoResponseHolder {
  return {
    headersSent: false,
    bytes: 0,
    response: undefined,
    sendReply(reply) {
      this.response = toResponse(c, reply, this);
    },
    dropContentHeaders: () => dropContentHeaders(c),
    abort() {},
  };
}

/** Where a written Response waits for the adapter to return it to hono. */
interface HonoResponseHolder {
  bytes: number;
  response: Response | undefined;
}

// Content headers set for a response begun before a failure do not describe the problem.
function dropContentHeaders(c: FrameworkContext): void {
  c.header('content-length', undefined);
  c.header('content-encoding', undefined);
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** A {@link Reply} as a Response, through hono's context; its length goes to `holder`. */
function toResponse(c: FrameworkContext, reply: Reply, holder: HonoResponseHolder): Response {
  const status = reply.status ?? 200;
  const payload = serializeBody(reply.body);
  const json = payload !== reply.body;
  // The Reply's own content-type, in any case, is set last and wins.
  const headers = json
    ? { 'content-type': 'application/json; charset=utf-8', ...reply.headers }
    : reply.headers;
  // A Reply's bytes sit on a plain ArrayBuffer, as a Response requires.
  const body = NULL_BODY_STATUSES.has(status)
    ? null
    : ((payload ?? null) as string | Uint8Array<ArrayBuffer> | null);
  holder.bytes = payload === undefined ? 0 : Buffer.byteLength(payload);
  return c.newResponse(body, status as StatusCode, headers);
}

/** `pending` under `target`: values `target` has win; list headers get `pending`'s first. */
function mergeUnder(target: Headers, pending: HeaderRecord): void {
  for (const name of Object.keys(pending)) {
    if (name === 'set-cookie') continue;
    const value = pending[name] as string | string[] | number;
    // Values of one name combine with commas (RFC 9110 section 5.3), as Headers.get does.
    const joined = Array.isArray(value) ? value.join(', ') : String(value);
    const own = target.get(name);
    if (own === null) target.set(name, joined);
    else if (name === 'vary') target.set(name, `${joined}, ${own}`);
  }
  const cookies = pending['set-cookie'];
  if (cookies === undefined) return;
  const own = target.getSetCookie();
  target.delete('set-cookie');
  for (const cookie of Array.isArray(cookies) ? cookies : [String(cookies)]) {
    target.append('set-cookie', cookie);
  }
  for (const cookie of own) target.append('set-cookie', cookie);
}
