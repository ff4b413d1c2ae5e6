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
import { trackResponse } from '../../internal/current-response.js';
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
  /** Hono's context of the request. */
  readonly c: FrameworkContext;
  /** The index of the handler that bound the route (`c.req.routeIndex` then), read on first use. */
  #routeIndex: number | undefined;
  #route: string | undefined;
  #params: Readonly<Record<string, string>> = NO_PARAMS;
  readonly #raw: Request;
  readonly #toolkit: Toolkit;
  readonly #incoming: IncomingMessage | undefined;
  #url: URL | undefined;
  #cookies: ReadonlyMap<string, string> | undefined;
  #body: Promise<unknown> | undefined;

  constructor(c: FrameworkContext, toolkit: Toolkit, incoming: IncomingMessage | undefined) {
    this.c = c;
    this.#raw = c.req.raw;
    this.#toolkit = toolkit;
    this.#incoming = incoming;
  }

  /**
   * Binds the route of the handler now running (`kit.route` or `kit.endpoint`): its
   * parameters now, while hono's current handler is that route's; its template when
   * first read, through hono's `routePath(c, index)`.
   */
  bindRoute(): void {
    this.#routeIndex = this.c.req.routeIndex;
    this.#route = undefined;
    this.#params = this.c.req.param();
  }

  /** Whether a handler of the adapter bound the route. */
  get bound(): boolean {
    return this.#routeIndex !== undefined;
  }

  get route(): string | undefined {
    if (this.#route === undefined && this.#routeIndex !== undefined)
      this.#route = routePath(this.c, this.#routeIndex);
    return this.#route;
  }

  get params(): Readonly<Record<string, string>> {
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
    const stream = raw.bodyUsed ? new Blob([await this.c.req.arrayBuffer()]).stream() : raw.body;
    if (stream === null) return undefined;
    const bytes = await readWebStream(stream, limits.limit, this.#toolkit.bodyTimeoutMs);
    return parseBody(bytes, kind, limits);
  }
}

/**
 * {@link Context} of a hono request. Headers set through it wait in a `Headers` and go
 * under the final Response when the adapter's middleware resumes (see
 * {@link HonoContext.applyHeaders}): the same for hono's own responses, a handler's raw
 * `Response`, errors and 404s, and a handler's own value wins.
 */
export class HonoContext extends Context {
  override readonly request: HonoRequestView;
  readonly #outgoing: ServerResponse | undefined;
  #headers: Headers | undefined;
  /** Body bytes of the final Response, when it declares them. */
  bytes = 0;
  /** The error that escaped the route, for teardowns and `onResponse`. */
  failure: unknown = undefined;

  constructor(c: FrameworkContext, toolkit: Toolkit, bindings: NodeBindings | undefined) {
    const request = new HonoRequestView(c, toolkit, bindings?.incoming);
    super(request, toolkit);
    this.request = request;
    this.#outgoing = bindings?.outgoing;
    if (bindings !== undefined) trackResponse(bindings.outgoing);
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
      void this.finish(responseOutcome(outgoing, this.failure, this.bytes));
    });
  }

  /** Whether the response is sent by node-server (else it is built in-process). */
  get onNodeServer(): boolean {
    return this.#outgoing !== undefined;
  }

  /**
   * Puts the headers set through this context under `response`: a value the response
   * has wins; `Vary` and `Set-Cookie` keep this context's values first. Returns the
   * response to send (a copy when its headers are immutable, as `Response.redirect`'s).
   */
  applyHeaders(response: Response): Response {
    const pending = this.#headers;
    this.#headers = undefined;
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
    if (!this.headersSent) (this.#headers ??= new Headers()).set(name, value);
  }

  appendHeader(name: string, value: string): void {
    if (!this.headersSent) (this.#headers ??= new Headers()).append(name, value);
  }

  removeHeader(name: string): void {
    if (this.headersSent) return;
    this.#headers?.delete(name);
    if (this.request.c.finalized) this.request.c.header(name, undefined);
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
