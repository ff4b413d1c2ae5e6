import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context as FrameworkContext } from 'hono';
import { routePath } from 'hono/route';
import {
  type BodyHeaders,
  checkBodyHeaders,
  hasBody,
  parseBody,
  readWebStream,
} from '../../body/read-body.js';
import { Context } from '../../context/context.js';
import { parseCookieHeader, type RequestView } from '../../context/request-view.js';
import {
  headerValue,
  rawHeaderValues,
  responseOutcome,
  whenClosed,
} from '../../internal/node-request.js';
import type { Toolkit } from '../../toolkit/toolkit.js';

/** The bindings `@hono/node-server` passes as `env`; absent in `app.request()` and on other runtimes. */
export interface NodeBindings {
  readonly incoming: IncomingMessage;
  readonly outgoing: ServerResponse;
}

/** The node-server bindings of a request, told apart from other runtimes' `env` by shape. */
export function nodeBindingsOf(env: unknown): NodeBindings | undefined {
  const bindings = env as Partial<NodeBindings> | undefined;
  return typeof bindings?.outgoing?.once === 'function' && bindings.incoming !== undefined
    ? (bindings as NodeBindings)
    : undefined;
}

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * {@link RequestView} over the `Request` hono's `fetch` received. Nothing is copied or
 * parsed until read.
 */
export class HonoRequestView implements RequestView {
  /** Hono's context, once the request reached a handler of the adapter (see {@link HonoContext.bind}). */
  c: FrameworkContext | undefined = undefined;
  /** The hono context and handler index of the matched route, read on first use. */
  #routeOf: FrameworkContext | undefined;
  #routeIndex = 0;
  #route: string | undefined;
  #params: Readonly<Record<string, string>> | undefined;
  readonly #raw: Request;
  readonly #toolkit: Toolkit;
  readonly #incoming: IncomingMessage | undefined;
  #url: URL | undefined;
  #cookies: ReadonlyMap<string, string> | undefined;
  #body: Promise<unknown> | undefined;

  constructor(raw: Request, toolkit: Toolkit, incoming: IncomingMessage | undefined) {
    this.#raw = raw;
    this.#toolkit = toolkit;
    this.#incoming = incoming;
  }

  /**
   * Binds the route hono matched for the handler now running. Its template and
   * parameters are worked out when first read: most requests never read them.
   */
  bindRoute(c: FrameworkContext): void {
    this.#routeOf = c;
    this.#routeIndex = c.req.routeIndex;
    this.#route = undefined;
    this.#params = undefined;
  }

  get route(): string | undefined {
    if (this.#route === undefined && this.#routeOf !== undefined)
      this.#route = routePath(this.#routeOf, this.#routeIndex);
    return this.#route;
  }

  get params(): Readonly<Record<string, string>> {
    const c = this.#routeOf;
    if (c === undefined) return NO_PARAMS;
    if (this.#params === undefined) {
      // Hono reads the parameters of its current handler: the bound one's, for this read.
      const { req } = c;
      const current = req.routeIndex;
      req.routeIndex = this.#routeIndex;
      try {
        this.#params = req.param();
      } finally {
        req.routeIndex = current;
      }
    }
    return this.#params;
  }

  get method(): string {
    return this.#raw.method;
  }

  /** Still percent-encoded, as received; `c.req.path` is decoded. */
  get path(): string {
    this.#url ??= new URL(this.#raw.url);
    return this.#url.pathname;
  }

  get query(): URLSearchParams {
    this.#url ??= new URL(this.#raw.url);
    return this.#url.searchParams;
  }

  get ip(): string | undefined {
    return this.#incoming?.socket?.remoteAddress;
  }

  header(name: string): string | undefined {
    // On node-server, Node's parsed headers: the same answer as the other adapters give,
    // and no web Headers built behind node-server's lightweight Request (~2 µs).
    const incoming = this.#incoming;
    return incoming === undefined
      ? (this.#raw.headers.get(name) ?? undefined)
      : headerValue(incoming.headers[name.toLowerCase()]);
  }

  /** Separate values need Node's raw headers: a web `Headers` joins repeats into one value. */
  headerValues(name: string): readonly string[] {
    const incoming = this.#incoming;
    if (incoming !== undefined) return rawHeaderValues(incoming.rawHeaders, name);
    const value = this.header(name);
    return value === undefined ? [] : [value];
  }

  cookie(name: string): string | undefined {
    this.#cookies ??= parseCookieHeader(this.header('cookie'));
    return this.#cookies.get(name);
  }

  body(): Promise<unknown> {
    this.#body ??= this.#readBody();
    return this.#body;
  }

  async #readBody(): Promise<unknown> {
    const headers: BodyHeaders = {
      contentType: this.header('content-type'),
      contentLength: this.header('content-length'),
      transferEncoding: this.header('transfer-encoding'),
    };
    const raw = this.#raw;
    // Over HTTP the headers announce a body; an in-process Request carries none of them.
    const announced =
      hasBody(headers) ||
      (headers.contentLength !== '0' && this.#incoming === undefined && raw.body !== null);
    if (!announced) return undefined;
    const limits = { limit: this.#toolkit.bodyLimit, maxJsonDepth: this.#toolkit.maxJsonDepth };
    const kind = checkBodyHeaders(headers, limits);
    // When another middleware already read it through c.req, hono keeps that copy.
    const stream =
      raw.bodyUsed && this.c !== undefined
        ? new Blob([await this.c.req.arrayBuffer()]).stream()
        : raw.body;
    if (stream === null) return undefined;
    const bytes = await readWebStream(stream, limits.limit, this.#toolkit.bodyTimeoutMs);
    return parseBody(bytes, kind, limits);
  }
}

/** Headers a handler's Response may carry too: they stay on the Response, where hono merges lists. */
const RESPONSE_MERGED: ReadonlySet<string> = new Set(['vary', 'set-cookie']);

/**
 * {@link Context} of a request hono's `fetch` received. On node-server, headers go
 * straight onto the `ServerResponse` (node-server's `writeHead` merges the Response's
 * headers over them, so success and error responses both carry them, and a handler's
 * own value wins); `Vary` and `Set-Cookie`, and every header in-process
 * (`app.request()`, other runtimes), belong on hono's context (`c.header`). Until the
 * request reaches a handler of the adapter, which {@link HonoContext.bind}s it, those
 * wait in a `Headers`; a response that never met the adapter gets them at the end
 * ({@link HonoContext.applyPending}). node:http's setHeader costs a fraction of a web
 * `Headers` write.
 */
export class HonoContext extends Context {
  override readonly request: HonoRequestView;
  readonly #outgoing: ServerResponse | undefined;
  /** Headers for hono's context, set before it was bound. */
  #pending: Headers | undefined;
  /** Whether this context put a header on hono's context (`c.header`). */
  #onHono = false;
  /** The error that escaped the route, for teardowns and `onResponse`. */
  failure: unknown = undefined;

  constructor(raw: Request, toolkit: Toolkit, bindings: NodeBindings | undefined) {
    const request = new HonoRequestView(raw, toolkit, bindings?.incoming);
    super(request, toolkit);
    this.request = request;
    this.#outgoing = bindings?.outgoing;
  }

  /**
   * On node-server, finishes the context once the response was really sent, or the client
   * left first (see {@link Context.finishOnClose}). In-process, the adapter finishes it
   * when the Response is built.
   */
  protected override watchEnd(): void {
    const outgoing = this.#outgoing;
    if (outgoing === undefined) return;
    whenClosed(outgoing, () => {
      // node-server passes the Response's headers straight to writeHead, which keeps the
      // length only in _contentLength.
      const length =
        outgoing.getHeader('content-length') ??
        (outgoing as { _contentLength?: number | null })._contentLength;
      void this.finish(responseOutcome(outgoing, this.failure, Number(length) || 0));
    });
  }

  /** Attaches hono's context of the request and hands it the headers set so far. Idempotent. */
  bind(c: FrameworkContext): void {
    if (this.request.c === c) return;
    this.request.c = c;
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#pending = undefined;
    this.#onHono = true;
    for (const [name, value] of pending) c.header(name, value, { append: true });
  }

  /**
   * Puts the headers that never reached hono's context on a response built without the
   * adapter (a plain hono handler): a handler's own value wins, list headers keep the
   * plugins' values first, as on a bound context. Returns the response to send.
   */
  applyPending(response: Response): Response {
    const pending = this.#pending;
    if (pending === undefined) return response;
    this.#pending = undefined;
    let target = response;
    try {
      mergeUnder(target.headers, pending);
    } catch {
      // Immutable headers (Response.redirect, a proxied fetch): copy the response.
      target = new Response(response.body, response);
      mergeUnder(target.headers, pending);
    }
    return target;
  }

  /** Whether headers wait for hono's context (see {@link HonoContext.applyPending}). */
  get hasPending(): boolean {
    return this.#pending !== undefined;
  }

  #onHonoSide(name: string): boolean {
    return this.#outgoing === undefined || RESPONSE_MERGED.has(name.toLowerCase());
  }

  setHeader(name: string, value: string): void {
    if (this.headersSent) return;
    if (!this.#onHonoSide(name)) (this.#outgoing as ServerResponse).setHeader(name, value);
    else if (this.request.c === undefined) (this.#pending ??= new Headers()).set(name, value);
    else {
      this.#onHono = true;
      this.request.c.header(name, value);
    }
  }

  appendHeader(name: string, value: string): void {
    if (this.headersSent) return;
    if (!this.#onHonoSide(name)) (this.#outgoing as ServerResponse).appendHeader(name, value);
    else if (this.request.c === undefined) (this.#pending ??= new Headers()).append(name, value);
    else {
      this.#onHono = true;
      this.request.c.header(name, value, { append: true });
    }
  }

  removeHeader(name: string): void {
    if (this.headersSent) return;
    this.#outgoing?.removeHeader(name);
    this.#pending?.delete(name);
    const c = this.request.c;
    // On node-server hono's context holds a header only once a Response exists or one
    // went through c.header; asking it to delete one before that makes it build a web
    // Headers (and every response after it takes node-server's slower path).
    if (c !== undefined && (this.#outgoing === undefined || this.#onHono || c.finalized)) {
      c.header(name, undefined);
    }
  }

  /** In-process, headers stay open until the Response is returned. */
  get headersSent(): boolean {
    return this.#outgoing?.headersSent ?? false;
  }
}

/** `pending` under `target`: values `target` has win; list headers get `pending`'s first. */
function mergeUnder(target: Headers, pending: Headers): void {
  for (const [name, value] of pending) {
    if (name === 'set-cookie') continue;
    const own = target.get(name);
    if (own === null) target.set(name, value);
    else if (name === 'vary') target.set(name, `${value}, ${own}`);
  }
  const cookies = pending.getSetCookie();
  if (cookies.length === 0) return;
  const own = target.getSetCookie();
  target.delete('set-cookie');
  for (const cookie of [...cookies, ...own]) target.append('set-cookie', cookie);
}
