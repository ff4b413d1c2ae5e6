import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context as FrameworkContext } from 'hono';
import {
  type BodyHeaders,
  checkBodyHeaders,
  hasBody,
  parseBody,
  readWebStream,
} from '../../body/read-body.js';
import { Context } from '../../context/context.js';
import { parseCookieHeader, type RequestView } from '../../context/request-view.js';
import { headerValue, rawHeaderValues } from '../../internal/node-request.js';
import type { Toolkit } from '../../toolkit/toolkit.js';

/** The bindings `@hono/node-server` puts in `c.env`; absent in `app.request()` and on other runtimes. */
export interface NodeBindings {
  readonly incoming: IncomingMessage;
  readonly outgoing: ServerResponse;
}

/** The node-server bindings of a request, told apart from other runtimes' `env` by shape. */
export function nodeBindingsOf(c: FrameworkContext): NodeBindings | undefined {
  const env = c.env as Partial<NodeBindings> | undefined;
  return typeof env?.outgoing?.once === 'function' && env.incoming !== undefined
    ? (env as NodeBindings)
    : undefined;
}

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

/** {@link RequestView} over hono's `c.req`. Nothing is copied or parsed until read. */
export class HonoRequestView implements RequestView {
  route: string | undefined = undefined;
  params: Readonly<Record<string, string>> = NO_PARAMS;
  readonly #c: FrameworkContext;
  readonly #toolkit: Toolkit;
  readonly #incoming: IncomingMessage | undefined;
  #url: URL | undefined;
  #cookies: ReadonlyMap<string, string> | undefined;
  #body: Promise<unknown> | undefined;

  constructor(c: FrameworkContext, toolkit: Toolkit, incoming: IncomingMessage | undefined) {
    this.#c = c;
    this.#toolkit = toolkit;
    this.#incoming = incoming;
  }

  get method(): string {
    return this.#c.req.method;
  }

  /** Still percent-encoded, as received; `c.req.path` is decoded. */
  get path(): string {
    this.#url ??= new URL(this.#c.req.url);
    return this.#url.pathname;
  }

  get query(): URLSearchParams {
    this.#url ??= new URL(this.#c.req.url);
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
      ? this.#c.req.header(name)
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
    const raw = this.#c.req.raw;
    // Over HTTP the headers announce a body; an in-process Request carries none of them.
    const announced =
      hasBody(headers) ||
      (headers.contentLength !== '0' && this.#incoming === undefined && raw.body !== null);
    if (!announced) return undefined;
    const limits = { limit: this.#toolkit.bodyLimit, maxJsonDepth: this.#toolkit.maxJsonDepth };
    const kind = checkBodyHeaders(headers, limits);
    // When another middleware already read it through c.req, hono keeps that copy.
    const stream = raw.bodyUsed ? new Blob([await this.#c.req.arrayBuffer()]).stream() : raw.body;
    if (stream === null) return undefined;
    return parseBody(await readWebStream(stream, limits.limit), kind, limits);
  }
}

/** Headers a handler's Response may carry too: they stay on the Response, where hono merges lists. */
const RESPONSE_MERGED: ReadonlySet<string> = new Set(['vary', 'set-cookie']);

/**
 * {@link Context} over hono's `c`. On node-server, headers go straight onto the
 * `ServerResponse` (node-server's `writeHead` merges the Response's headers over them,
 * so success and error responses both carry them, and a handler's own value wins);
 * `Vary` and `Set-Cookie`, and every header in-process (`app.request()`), go through
 * `c.header`. node:http's setHeader costs a fraction of a web `Headers` write.
 */
export class HonoContext extends Context {
  override readonly request: HonoRequestView;
  readonly #c: FrameworkContext;
  readonly #outgoing: ServerResponse | undefined;
  /** Whether this context put a header on hono's context (`c.header`). */
  #onHono = false;

  constructor(c: FrameworkContext, toolkit: Toolkit, bindings: NodeBindings | undefined) {
    const request = new HonoRequestView(c, toolkit, bindings?.incoming);
    super(request, toolkit);
    this.request = request;
    this.#c = c;
    this.#outgoing = bindings?.outgoing;
  }

  #outgoingFor(name: string): ServerResponse | undefined {
    const outgoing = this.#outgoing;
    return outgoing === undefined || RESPONSE_MERGED.has(name.toLowerCase()) ? undefined : outgoing;
  }

  setHeader(name: string, value: string): void {
    if (this.headersSent) return;
    const outgoing = this.#outgoingFor(name);
    if (outgoing !== undefined) outgoing.setHeader(name, value);
    else {
      this.#onHono = true;
      this.#c.header(name, value);
    }
  }

  appendHeader(name: string, value: string): void {
    if (this.headersSent) return;
    const outgoing = this.#outgoingFor(name);
    if (outgoing !== undefined) outgoing.appendHeader(name, value);
    else {
      this.#onHono = true;
      this.#c.header(name, value, { append: true });
    }
  }

  removeHeader(name: string): void {
    if (this.headersSent) return;
    const outgoing = this.#outgoing;
    outgoing?.removeHeader(name);
    // On node-server hono's context holds a header only once a Response exists or one
    // went through c.header; asking it to delete one before that makes it build a web
    // Headers (and every response after it takes node-server's slower path).
    if (outgoing === undefined || this.#onHono || this.#c.finalized) {
      this.#c.header(name, undefined);
    }
  }

  /** In-process, headers stay open until the Response is returned. */
  get headersSent(): boolean {
    return this.#outgoing?.headersSent ?? false;
  }
}
