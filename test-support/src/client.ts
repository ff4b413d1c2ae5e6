import {
  request as httpRequest,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http';
import { constants, connect as http2Connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import type { RunningApp } from './fixture.js';

/** A request of {@link sendRequest}. */
export interface ClientRequestOptions {
  /** @default 'GET' */
  method?: string;
  /** Path and query, for example `/stream`. */
  path: string;
  headers?: Readonly<Record<string, string>>;
  body?: string | Uint8Array;
  /**
   * Sends `Expect: 100-continue` and holds the body back until the server answers
   * `100 Continue` (RFC 9110 section 10.1.1).
   */
  expectContinue?: boolean;
  /** The CA that signed a TLS server's certificate (the self-signed one itself). */
  ca?: string;
}

/** A response whose headers arrived; its body is still to read. */
export interface ClientResponse {
  readonly status: number;
  /** Response headers by lower-case name, without HTTP/2 pseudo-headers. */
  readonly headers: IncomingHttpHeaders;
  /** The body as it arrives. */
  readonly body: Readable;
  readonly httpVersion: '1.1' | '2';
  /** `performance.now()` when the request went out, when `100 Continue` came (if it did), when the headers came. */
  readonly sentAt: number;
  readonly continueAt: number | undefined;
  readonly headersAt: number;
  /**
   * Leaves abruptly: destroys the connection (HTTP/1.1) or cancels the stream with
   * RST_STREAM (HTTP/2).
   */
  reset(): void;
}

/**
 * Sends one request to `app` over its transport, each on a fresh connection (HTTP/2: a
 * fresh session, closed once the stream is), and resolves when the response headers
 * arrived.
 */
export function sendRequest(
  app: Pick<RunningApp, 'url' | 'transport'>,
  options: ClientRequestOptions,
): Promise<ClientResponse> {
  return app.transport === 'http2' ? sendHttp2(app.url, options) : sendHttp1(app, options);
}

/** The whole body of `response`. */
export async function readBody(response: ClientResponse): Promise<Buffer> {
  return Buffer.concat((await response.body.toArray()) as Buffer[]);
}

function requestHeaders(options: ClientRequestOptions): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ...options.headers };
  if (options.body !== undefined) headers['content-length'] = Buffer.byteLength(options.body);
  if (options.expectContinue === true) headers.expect = '100-continue';
  return headers;
}

function sendHttp1(
  app: Pick<RunningApp, 'url' | 'transport'>,
  options: ClientRequestOptions,
): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const request = (app.transport === 'http' ? httpRequest : httpsRequest)(
      new URL(options.path, app.url),
      {
        method: options.method ?? 'GET',
        headers: requestHeaders(options),
        agent: false,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
      },
    );
    let continueAt: number | undefined;
    request.on('error', reject);
    request.on('continue', () => {
      continueAt = performance.now();
      request.end(options.body);
    });
    request.on('response', (response) => {
      const headersAt = performance.now();
      resolve({
        status: response.statusCode ?? 0,
        headers: response.headers,
        body: response,
        httpVersion: '1.1',
        sentAt,
        continueAt,
        headersAt,
        reset() {
          response.on('error', () => {});
          request.destroy();
        },
      });
    });
    const sentAt = performance.now();
    if (options.expectContinue === true) request.flushHeaders();
    else request.end(options.body);
  });
}

function sendHttp2(url: string, options: ClientRequestOptions): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(url, options.ca === undefined ? {} : { ca: options.ca });
    session.on('error', reject);
    const waitsForContinue = options.expectContinue === true;
    const stream = session.request(
      { ':method': options.method ?? 'GET', ':path': options.path, ...requestHeaders(options) },
      { endStream: options.body === undefined && !waitsForContinue },
    );
    const sentAt = performance.now();
    let continueAt: number | undefined;
    stream.on('error', reject);
    stream.on('close', () => session.close());
    stream.on('continue', () => {
      continueAt = performance.now();
      stream.end(options.body);
    });
    if (options.body !== undefined && !waitsForContinue) stream.end(options.body);
    stream.on('response', (raw) => {
      const headersAt = performance.now();
      const headers: IncomingHttpHeaders = {};
      for (const [name, value] of Object.entries(raw)) {
        if (!name.startsWith(':')) headers[name] = value as string | string[];
      }
      resolve({
        status: Number(raw[':status']),
        headers,
        body: stream,
        httpVersion: '2',
        sentAt,
        continueAt,
        headersAt,
        reset() {
          stream.on('error', () => {});
          stream.close(constants.NGHTTP2_CANCEL);
        },
      });
    });
  });
}
