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
import { parseCookieHeader, type RequestView } from '../../context/request-view.js';
import { headerValue, rawHeaderValues } from '../../internal/node-request.js';
import { checkPathEncoding } from '../../internal/path-encoding.js';
import type { Toolkit } from '../../toolkit/toolkit.js';

/**
 * The bindings `@hono/node-server` passes as `env`; absent in `app.request()` and on other
 * runtimes. An upgrade dispatched from Node's `upgrade` event (`@hono/node-ws`,
 * `kit.upgradeListener`) has the request and no response: only its socket.
 */
export interface NodeBindings {
  readonly incoming: IncomingMessage;
  readonly outgoing: ServerResponse | undefined;
}

/** The node-server bindings of a request, told apart from other runtimes' `env` by shape. */
export function nodeBindingsOf(env: unknown): NodeBindings | undefined {
  const bindings = env as Partial<NodeBindings> | undefined;
  if (typeof bindings?.outgoing?.once === 'function' && bindings.incoming !== undefined)
    return bindings as NodeBindings;
  const incoming = bindings?.incoming;
  return bindings?.outgoing === undefined &&
    typeof incoming?.socket?.once === 'function' &&
    incoming.headers.upgrade !== undefined
    ? { incoming, outgoing: undefined }
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
   * template and parameters are read now, while hono's current handler is that route's
   * (later handlers of the request may belong to other patterns).
   */
  bindRoute(): void {
    // Hono hands a parameter it cannot decode over as raw text: refuse the path.
    if (this.#raw.url.includes('%')) checkPathEncoding(this.path);
    this.#route = routePath(this.c);
    this.#params = this.c.req.param();
  }

  /** Whether a handler of the adapter bound the route. */
  get bound(): boolean {
    return this.#route !== undefined;
  }

  get route(): string | undefined {
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
      contentEncoding: this.header('content-encoding'),
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
