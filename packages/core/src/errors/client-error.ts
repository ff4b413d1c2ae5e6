import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { isResponseInProgress } from '../internal/current-response.js';
import { BadRequestError, HttpError, PayloadTooLargeError } from './http-error.js';
import { PROBLEM_CONTENT_TYPE, toProblem } from './problem.js';

/** A whole HTTP response for `error`, written straight to the socket: there is no response object. */
function rawAnswer(error: HttpError): string {
  const body = JSON.stringify(toProblem(error).body);
  return (
    `HTTP/1.1 ${error.status} ${error.title}\r\n` +
    `content-type: ${PROBLEM_CONTENT_TYPE}\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\n` +
    'x-content-type-options: nosniff\r\n' +
    `connection: close\r\n\r\n${body}`
  );
}

/**
 * The answers by the error's `code` (an llhttp `HPE_*` code or a Node timeout), rendered
 * once: they never carry anything from the request. Any other code is malformed HTTP.
 */
const ANSWERS = new Map<string | undefined, string>([
  [
    'HPE_HEADER_OVERFLOW',
    rawAnswer(
      new HttpError(431, {
        code: 'ERR_HEADERS_TOO_LARGE',
        detail: 'The request header fields are too large.',
      }),
    ),
  ],
  [
    'HPE_CHUNK_EXTENSIONS_OVERFLOW',
    rawAnswer(
      new PayloadTooLargeError({
        detail: 'The chunk extensions of the request body are too large.',
      }),
    ),
  ],
  [
    'ERR_HTTP_REQUEST_TIMEOUT',
    rawAnswer(
      new HttpError(408, {
        code: 'ERR_REQUEST_TIMEOUT',
        detail: 'The request did not arrive in time.',
      }),
    ),
  ],
]);
const MALFORMED = rawAnswer(new BadRequestError({ detail: 'The request is not valid HTTP/1.1.' }));

/**
 * Answers the requests Node's HTTP parser rejects before any framework sees them (an
 * unknown method, a malformed request line, header or chunk, a header block over
 * `maxHeaderSize`) with an RFC 9457 problem, as every other error is answered, instead of
 * Node's bodiless reply or a framework's own JSON. Then it closes the connection, as Node
 * does: after a parse error the rest of the stream cannot be trusted.
 *
 * Statuses: 431 `ERR_HEADERS_TOO_LARGE` for a header block over `maxHeaderSize`, 413
 * `ERR_BODY_TOO_LARGE` for oversized chunk extensions, 408 `ERR_REQUEST_TIMEOUT` for
 * `headersTimeout` / `requestTimeout`, and 400 `ERR_BAD_REQUEST` for anything else. The
 * body never quotes the request or the parser's message. A reset connection, or one whose
 * current response has already started, is only closed.
 *
 * Its signature is that of Node's `clientError` event and of fastify's
 * `clientErrorHandler` option, so it plugs into either.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { clientErrorHandler } from '@org/core';
 *
 * const server = createServer(app); // express, koa's app.callback(), hono's serve(), node
 * server.on('clientError', clientErrorHandler);
 *
 * // fastify: a server option
 * const app = Fastify({ clientErrorHandler });
 * ```
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Duplex): void {
  // A response already on the wire cannot be followed by another one (Node's own
  // handler checks the same).
  if (error.code !== 'ECONNRESET' && socket.writable && !isResponseInProgress(socket)) {
    socket.write(ANSWERS.get(error.code) ?? MALFORMED);
  }
  socket.destroy();
}

const CONNECT_REFUSED = rawAnswer(
  new BadRequestError({
    code: 'ERR_CONNECT_NOT_SUPPORTED',
    detail: 'This server is not a proxy: CONNECT is not served.',
  }),
);

const EXPECTATION_FAILED_BODY = JSON.stringify(
  toProblem(
    new HttpError(417, {
      code: 'ERR_EXPECTATION_FAILED',
      detail: "The only expectation this server meets is 'Expect: 100-continue'.",
    }),
  ).body,
);
const EXPECTATION_FAILED_HEADERS = {
  'content-type': PROBLEM_CONTENT_TYPE,
  'content-length': Buffer.byteLength(EXPECTATION_FAILED_BODY),
  'x-content-type-options': 'nosniff',
  connection: 'close',
};

/** What {@link answerProtocolErrors} needs of a server: `node:http`'s or `node:https`'s. */
export interface ProtocolServer {
  /** Listeners already attached, so the server's own are kept. */
  listenerCount(event: string): number;
  /** Attaches a listener. */
  on(event: 'clientError', listener: (error: Error, socket: Duplex) => void): this;
  /** Attaches a listener. */
  on(event: 'connect', listener: (request: IncomingMessage, socket: Duplex) => void): this;
  /** Attaches a listener. */
  on(
    event: 'checkExpectation',
    listener: (request: IncomingMessage, response: ServerResponse) => void,
  ): this;
}

/**
 * Answers, as RFC 9457 problems, the three kinds of request Node's HTTP server handles
 * before any framework sees them, where Node would close the connection silently or send
 * a bodiless reply:
 * - requests its parser rejects: {@link clientErrorHandler} (400, 408, 413, 431);
 * - `CONNECT` (RFC 9110 section 9.3.6, meant for proxies; Node's `connect` event): 400
 *   `ERR_CONNECT_NOT_SUPPORTED`, then the connection closes;
 * - an `Expect` other than `100-continue` (Node's `checkExpectation` event): 417
 *   `ERR_EXPECTATION_FAILED` (RFC 9110 section 10.1.1).
 *
 * A listener the server already has for one of these events is kept (fastify adds its
 * `clientErrorHandler` option as one). Returns the server.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { answerProtocolErrors } from '@org/core';
 *
 * const server = answerProtocolErrors(createServer(app)); // express, koa, hono, node:http
 * answerProtocolErrors(fastify.server); // fastify: after Fastify({ ...kit.serverOptions })
 * ```
 */
export function answerProtocolErrors<S extends ProtocolServer>(server: S): S {
  if (server.listenerCount('clientError') === 0) server.on('clientError', clientErrorHandler);
  if (server.listenerCount('connect') === 0) {
    server.on('connect', (_request, socket) => {
      // A reset while answering must not reach the process: the socket has no other listener.
      socket.on('error', () => socket.destroy());
      if (socket.writable) socket.write(CONNECT_REFUSED);
      socket.destroy();
    });
  }
  if (server.listenerCount('checkExpectation') === 0) {
    server.on('checkExpectation', (_request, response) => {
      response.writeHead(417, EXPECTATION_FAILED_HEADERS);
      response.end(EXPECTATION_FAILED_BODY);
    });
  }
  return server;
}
