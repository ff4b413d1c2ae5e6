import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type BodyHeaders,
  checkBodyHeaders,
  checkParsedBody,
  hasBody,
  parseBody,
  readNodeStream,
} from '../body/read-body.js';
import { parseCookieHeader, type RequestView } from '../context/request-view.js';
import type { RequestOutcome } from '../dependency/dependency.js';
import { AdapterContext, type ResponseWriter } from '../lifecycle/adapter-context.js';
import type { Reply } from '../toolkit/plugin.js';
import type { Toolkit } from '../toolkit/toolkit.js';
import { trackResponse } from './current-response.js';
import { checkHeaderName, checkHeaderValue } from './header-field.js';

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

const NO_VALUES: readonly string[] = Object.freeze([]);

/**
 * Every value of one header, in arrival order, from Node's `rawHeaders` (the same
 * answer as `headersDistinct[name]`). Node builds `headersDistinct` for every header
 * of the request on first read; one header is all a caller needs (the single
 * `Authorization` check reads it on every request).
 */
export function rawHeaderValues(rawHeaders: readonly string[], name: string): readonly string[] {
  const key = name.toLowerCase();
  let values: string[] | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const field = rawHeaders[i] as string;
    if (field.length === key.length && field.toLowerCase() === key) {
      (values ??= []).push(rawHeaders[i + 1] as string);
    }
  }
  return values ?? NO_VALUES;
}

/** One header value from Node's parsed headers: repeats (set-cookie) joined by ", ". */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * {@link RequestView} over Node's `IncomingMessage`, shared by the node, express,
 * koa and fastify adapters. Nothing is copied until read.
 */
export class NodeRequestView implements RequestView {
  route: string | undefined = undefined;
  params: Readonly<Record<string, string>> = NO_PARAMS;
  /** A body the framework already parsed; used instead of reading the stream. */
  preParsedBody:
    | {
        /** The parsed body. */
        value: unknown;
      }
    | undefined = undefined;
  /** Node's request. */
  readonly raw: IncomingMessage;
  readonly #url: string;
  readonly #toolkit: Toolkit;
  #query: URLSearchParams | undefined;
  #cookies: ReadonlyMap<string, string> | undefined;
  #body: Promise<unknown> | undefined;

  constructor(raw: IncomingMessage, toolkit: Toolkit, url: string = raw.url ?? '/') {
    this.raw = raw;
    this.#url = url;
    this.#toolkit = toolkit;
  }

  get method(): string {
    return this.raw.method ?? 'GET';
  }

  get path(): string {
    const q = this.#url.indexOf('?');
    return q === -1 ? this.#url : this.#url.slice(0, q);
  }

  get query(): URLSearchParams {
    if (this.#query === undefined) {
      const q = this.#url.indexOf('?');
      this.#query = new URLSearchParams(q === -1 ? '' : this.#url.slice(q + 1));
    }
    return this.#query;
  }

  get ip(): string | undefined {
    return this.raw.socket?.remoteAddress;
  }

  header(name: string): string | undefined {
    return headerValue(this.raw.headers[name.toLowerCase()]);
  }

  headerValues(name: string): readonly string[] {
    return rawHeaderValues(this.raw.rawHeaders, name);
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
    // A framework's parser skipped our depth and prototype-key rules: apply them here.
    if (this.preParsedBody !== undefined)
      return checkParsedBody(this.preParsedBody.value, this.#toolkit);
    const headers: BodyHeaders = {
      contentType: this.raw.headers['content-type'],
      contentLength: this.raw.headers['content-length'],
      transferEncoding: this.raw.headers['transfer-encoding'],
      contentEncoding: this.raw.headers['content-encoding'],
    };
    if (!hasBody(headers) || this.raw.readableEnded) return undefined;
    const limits = { limit: this.#toolkit.bodyLimit, maxJsonDepth: this.#toolkit.maxJsonDepth };
    const kind = checkBodyHeaders(headers, limits);
    const bytes = await readNodeStream(this.raw, limits.limit, this.#toolkit.bodyTimeoutMs);
    return parseBody(bytes, kind, limits);
  }
}

/**
 * The node adapter's request view. Nothing else in a node:http app reads `req.headers`,
 * which Node builds on first read by lower-casing and storing every header of the
 * request; one pass over `rawHeaders` answers a header sent once or not at all, and a
 * repeated one is combined by Node's own rules.
 */
export class RawHeadersRequestView extends NodeRequestView {
  override header(name: string): string | undefined {
    const values = rawHeaderValues(this.raw.rawHeaders, name);
    return values.length > 1 ? headerValue(this.raw.headers[name.toLowerCase()]) : values[0];
  }
}

/**
 * Runs `onClose` once `response` has closed: on its `close` event, or on the next
 * microtask when it closed already (the end was first read after the client left: a
 * dependency that resolved late), so the caller can register what it reads first.
 */
export function whenClosed(response: ServerResponse, onClose: () => void): void {
  if (response.closed) queueMicrotask(onClose);
  // `on`, not `once`: a response closes once, and once's wrapper costs a bound
  // function and a listener removal per request.
  else response.on('close', onClose);
}

/** How a node:http response ended, for {@link AdapterContext.finish}: aborted when it closed unfinished. */
export function responseOutcome(
  response: ServerResponse,
  error: unknown,
  bytes: number,
): Omit<RequestOutcome, 'failed'> & { bytes: number } {
  const aborted = !response.writableFinished;
  return {
    status: aborted && !response.headersSent ? 0 : response.statusCode,
    aborted,
    error,
    bytes,
  };
}

/** {@link AdapterContext} bound to Node's `ServerResponse`. */
export class NodeContext extends AdapterContext {
  override readonly request: NodeRequestView;
  /** Node's response. */
  readonly response: ServerResponse;

  constructor(request: NodeRequestView, response: ServerResponse, toolkit: Toolkit) {
    super(request, toolkit);
    this.request = request;
    this.response = response;
    trackResponse(response);
  }

  setHeader(name: string, value: string): void {
    if (!this.response.headersSent) this.response.setHeader(name, value);
  }

  appendHeader(name: string, value: string): void {
    if (!this.response.headersSent) this.response.appendHeader(name, value);
  }

  removeHeader(name: string): void {
    if (!this.response.headersSent) this.response.removeHeader(name);
  }

  get headersSent(): boolean {
    return this.response.headersSent;
  }

  /**
   * Body bytes of a reply written with {@link NodeContext.sendReply}: Node keeps no
   * `content-length` to read back when the headers went straight to `writeHead`.
   */
  sentBytes: number | undefined = undefined;

  /** Finishes the context when the response closes (see {@link AdapterContext.finish}). */
  protected override watchEnd(): void {
    whenClosed(this.response, () => {
      void this.finish(responseOutcome(this.response, this.failure, this.bodyBytes()));
    });
  }

  /** The response body's length in bytes, when it was declared; else 0. */
  protected bodyBytes(): number {
    const length = this.sentBytes ?? Number(this.response.getHeader('content-length'));
    return Number.isFinite(length) ? length : 0;
  }

  sendReply(reply: Reply): void {
    this.sentBytes = writeReply(this.response, reply);
  }

  dropContentHeaders(): void {
    dropContentHeaders(this.response);
  }

  abort(): void {
    this.response.destroy();
  }
}

/**
 * Stores a header in a record. A record is a plain object (a prototype-less one is a
 * slow dictionary for V8), and `__proto__`, a valid field name, is the one key an
 * assignment would not store; reads go through `Object.hasOwn`.
 */
function putHeader(headers: HeaderRecord, key: string, value: string | string[]): void {
  if (key === '__proto__') {
    Object.defineProperty(headers, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    headers[key] = value;
  }
}

/** Sets a header in a record of headers waiting for the response, validated as `setHeader` does. */
export function setPendingHeader(headers: HeaderRecord, name: string, value: string): void {
  putHeader(headers, checkedHeader(name, value), value);
}

/** Adds a value to a header of a record (an array: one field line per value, as Node's `appendHeader`). */
export function appendPendingHeader(headers: HeaderRecord, name: string, value: string): void {
  const key = checkedHeader(name, value);
  const current = Object.hasOwn(headers, key) ? headers[key] : undefined;
  putHeader(
    headers,
    key,
    current === undefined
      ? value
      : Array.isArray(current)
        ? [...current, value]
        : [String(current), value],
  );
}

/** Removes a header from a record, by any case of its name. */
export function removePendingHeader(headers: HeaderRecord, name: string): void {
  const key = knownHeaders.get(name)?.key ?? name.toLowerCase();
  if (Object.hasOwn(headers, key)) delete headers[key];
}

/** A header name as given: its lower-case form, and the last value that passed validation. */
interface KnownHeader {
  readonly key: string;
  value: string;
}

/**
 * Header names seen, up to 256: most are constants, set on every request, and so
 * are many values (the security headers), so a name is validated once and a value
 * again only when it changed (a Map lookup and a comparison instead of two regular
 * expressions, about 70 ns a header).
 */
const knownHeaders = new Map<string, KnownHeader>();

/** Validates a header as Node's setHeader does (throwing its error codes); returns the lower-case name. */
export function checkedHeader(name: string, value: string): string {
  let known = knownHeaders.get(name);
  if (known === undefined) {
    checkHeaderName(name);
    known = { key: name.toLowerCase(), value: '' };
    if (knownHeaders.size < 256) knownHeaders.set(name, known);
  }
  if (known.value !== value) {
    checkHeaderValue(name, value);
    known.value = value;
  }
  return known.key;
}

/**
 * The node adapter's context. It writes every response itself, so headers wait in one
 * object and reach Node in the reply's one `writeHead` (cheaper than a `setHeader`
 * each). Names and values are validated when set, as `setHeader` does; names go out in
 * lower case (RFC 9110 section 5.1: field names are case-insensitive).
 */
export class BufferedNodeContext extends NodeContext {
  #headers: HeaderRecord | undefined = undefined;

  override setHeader(name: string, value: string): void {
    if (!this.response.headersSent) setPendingHeader((this.#headers ??= {}), name, value);
  }

  override appendHeader(name: string, value: string): void {
    if (!this.response.headersSent) appendPendingHeader((this.#headers ??= {}), name, value);
  }

  override removeHeader(name: string): void {
    if (this.response.headersSent) return;
    if (this.#headers !== undefined) removePendingHeader(this.#headers, name);
    this.response.removeHeader(name);
  }

  override sendReply(reply: Reply): void {
    this.sentBytes = writeReply(this.response, reply, this.#headers);
  }

  override dropContentHeaders(): void {
    super.dropContentHeaders();
    if (this.#headers === undefined) return;
    delete this.#headers['content-length'];
    delete this.#headers['content-encoding'];
  }
}

/**
 * Serializes a {@link Reply} body: strings and bytes as they are, anything else as JSON.
 * The payload is JSON exactly when it is not `body` itself.
 */
export function serializeBody(body: unknown): string | Uint8Array | undefined {
  if (body === undefined || typeof body === 'string' || body instanceof Uint8Array) return body;
  return JSON.stringify(body);
}

/** Response headers by lower-case name, as `writeHead` takes them. */
export type HeaderRecord = Record<string, string | string[] | number>;

/**
 * Writes a {@link Reply} to a Node response, with `pending` headers (a
 * {@link BufferedNodeContext}'s) under the reply's own; returns the body's length in bytes.
 */
export function writeReply(response: ServerResponse, reply: Reply, pending?: HeaderRecord): number {
  if (response.headersSent) {
    response.end();
    return 0;
  }
  const payload = serializeBody(reply.body);
  const json = payload !== reply.body;
  // One header object for writeHead: Node takes it as it is when nothing was set before,
  // instead of a setHeader call (validation and a map entry) per header.
  let headers: HeaderRecord;
  if (reply.headers === undefined) {
    headers = pending ?? {};
  } else {
    // A copy: a bad header of the reply makes writeHead throw, and the problem written
    // next starts again from the pending headers.
    headers = { ...pending };
    for (const name of Object.keys(reply.headers))
      putHeader(headers, name.toLowerCase(), reply.headers[name] as string);
  }
  if (json && headers['content-type'] === undefined && !response.hasHeader('content-type'))
    headers['content-type'] = 'application/json; charset=utf-8';
  const bytes = payload === undefined ? 0 : Buffer.byteLength(payload);
  if (payload !== undefined) headers['content-length'] = bytes;
  response.writeHead(reply.status ?? 200, headers);
  response.end(payload);
  return bytes;
}

/** See {@link ResponseWriter.dropContentHeaders}. */
function dropContentHeaders(response: ServerResponse): void {
  response.removeHeader('content-length');
  response.removeHeader('content-encoding');
}

/** A {@link ResponseWriter} over a bare response, for an error that arrives without a context. */
export function nodeResponseWriter(response: ServerResponse): ResponseWriter {
  return {
    get headersSent() {
      return response.headersSent;
    },
    sendReply: (reply) => void writeReply(response, reply),
    dropContentHeaders: () => dropContentHeaders(response),
    abort: () => response.destroy(),
  };
}
