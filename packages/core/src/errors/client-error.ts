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
