import { badPathError } from '../internal/path-encoding.js';
import {
  BadRequestError,
  HttpError,
  InternalServerError,
  isHttpError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
} from './http-error.js';

/** The media type of every error body (RFC 9457 section 3). */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** An RFC 9457 problem document as this toolkit writes it. */
export interface ProblemDocument {
  /** A URI reference naming the problem type (RFC 9457 section 3.1.1). */
  type: string;
  /** A short summary of the problem type, the same for every occurrence. */
  title: string;
  /** The HTTP status code. */
  status: number;
  /** An explanation of this occurrence, safe to show to the client. */
  detail?: string;
  /** The stable error code (`ERR_NOT_FOUND`, ...): switch on this, never on text. */
  code: string;
  /** The id of the request, to find its log lines. */
  request_id?: string;
  /** Further members (extensions), such as `errors[]` for a 422. */
  [extension: string]: unknown;
}

/** A rendered error response, ready for any framework to write. */
export interface ProblemResponse {
  /** The HTTP status code. */
  status: number;
  /** Headers to send: `content-type` and any the error carries (`WWW-Authenticate`, `Retry-After`). */
  headers: Readonly<Record<string, string>>;
  /** The problem document. */
  body: ProblemDocument;
}

/** Options of {@link toProblem}. */
export interface ToProblemOptions {
  /** The request id to put in `request_id`. */
  requestId?: string | undefined;
  /** Show the message and stack of unexpected errors. Never enable in production. @default false */
  development?: boolean;
}

const RESERVED = new Set(['type', 'title', 'status', 'detail', 'code', 'request_id']);

/** A thrown value that is not an `Error`, wrapped by {@link asError}: the value is its `cause`. */
class ThrownValue extends Error {
  constructor(value: unknown) {
    super("A value that is not an Error was thrown; it is this error's cause.", { cause: value });
    this.name = 'ThrownValue';
  }
}

/**
 * What was thrown, as an `Error`: a value that is not one (a string, `undefined`, a plain
 * object) is wrapped, as its `cause`, and still rendered as itself. Express takes a falsy
 * `next(error)` for no error at all (the request falls through to a 404), fastify a
 * falsy `done(error)` likewise, and hono hands `app.onError` only `Error`s (anything else
 * escapes as an empty 500); `onError` hooks and `ResponseInfo.error` get an `Error`.
 */
export function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new ThrownValue(thrown);
}

/**
 * Maps errors that frameworks and body parsers throw for client mistakes onto our
 * hierarchy, by status only: their messages are never copied, since parser text can
 * echo input or internals.
 *
 * @example
 * ```ts
 * normalizeError(Object.assign(new Error('request entity too large'), { status: 413 }));
 * // PayloadTooLargeError: 413, detail 'The request body is too large.', the original as `cause`
 * normalizeError(new TypeError('x is undefined')); // InternalServerError (500)
 * ```
 */
export function normalizeError(thrown: unknown): HttpError {
  // Rendered as what was thrown: a `{ status: 404 }` object answers 404 however it came.
  const error = thrown instanceof ThrownValue ? thrown.cause : thrown;
  if (isHttpError(error)) return error;
  if (typeof error === 'object' && error !== null) {
    const candidate = error as { status?: unknown; statusCode?: unknown; expose?: unknown };
    const status =
      typeof candidate.status === 'number'
        ? candidate.status
        : typeof candidate.statusCode === 'number'
          ? candidate.statusCode
          : undefined;
    if (status !== undefined && status >= 400 && status < 500) {
      switch (status) {
        case 413:
          return new PayloadTooLargeError({
            detail: 'The request body is too large.',
            cause: error,
          });
        case 415:
          return new UnsupportedMediaTypeError({
            detail: 'The request body has an unsupported content type.',
            cause: error,
          });
        case 404:
          return new NotFoundError({ detail: 'No route matches this request.', cause: error });
        case 405:
          return new MethodNotAllowedError({ cause: error });
        case 400:
          // A router that cannot decode a parameter (express's, fastify's) fails with the URIError.
          return error instanceof URIError
            ? badPathError(error)
            : new BadRequestError({ detail: 'The request is malformed.', cause: error });
        default:
          return new HttpError(status, { cause: error });
      }
    }
  }
  return new InternalServerError({ cause: error });
}

/**
 * Renders any thrown value as an RFC 9457 problem. An error that is not an
 * {@link HttpError} (or a framework's client error) becomes a 500 whose body says
 * nothing internal unless `development` is on.
 *
 * @example
 * ```ts
 * const { status, headers, body } = toProblem(err, { requestId: 'abc' });
 * res.writeHead(status, { ...headers, 'content-type': PROBLEM_CONTENT_TYPE });
 * res.end(JSON.stringify(body));
 * ```
 */
export function toProblem(error: unknown, options: ToProblemOptions = {}): ProblemResponse {
  const httpError = normalizeError(error);
  const body: ProblemDocument = {
    type: httpError.type,
    title: httpError.title,
    status: httpError.status,
    code: httpError.code,
  };
  if (httpError.detail !== undefined) body.detail = httpError.detail;
  for (const key of Object.keys(httpError.extensions)) {
    if (!RESERVED.has(key)) body[key] = httpError.extensions[key];
  }
  if (options.requestId !== undefined) body.request_id = options.requestId;
  const original = error instanceof ThrownValue ? error.cause : error;
  if (options.development === true && httpError.status >= 500 && !isHttpError(original)) {
    // Development only: the original failure, to save a trip to the logs.
    body.detail = original instanceof Error ? original.message : String(original);
    if (original instanceof Error && original.stack !== undefined) {
      body.stack = original.stack.split('\n');
    }
  }
  return { status: httpError.status, headers: httpError.headers, body };
}
