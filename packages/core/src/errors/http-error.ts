/**
 * The one error hierarchy for HTTP outcomes. Every class carries a stable `code`
 * both as a static and on the instance, so callers switch on `err.code`, never on
 * message text.
 */

const HTTP_ERROR_BRAND = Symbol.for('@org/core/HttpError');

/** Standard reason phrases used as the problem `title` when none is given. */
const REASON_PHRASES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

/** Options shared by every {@link HttpError}. */
export interface HttpErrorOptions {
  /** Human-readable explanation specific to this occurrence (RFC 9457 `detail`). Shown to the client. */
  detail?: string;
  /** Stable machine-readable code, for example `ERR_TOKEN_EXPIRED`. @default the class's code */
  code?: string;
  /** Short summary of the problem type (RFC 9457 `title`). @default the status's reason phrase */
  title?: string;
  /** A URI identifying the problem type (RFC 9457 `type`). @default "about:blank" */
  type?: string;
  /** Response headers to send with the problem, for example `WWW-Authenticate`. */
  headers?: Readonly<Record<string, string>>;
  /** Extra members for the problem body (RFC 9457 section 3.2 extensions). */
  extensions?: Readonly<Record<string, unknown>>;
  /** The underlying error, kept for logs and never sent to the client. */
  cause?: unknown;
}

/**
 * An HTTP outcome with a status, a stable code and an RFC 9457 problem body.
 *
 * @example
 * ```ts
 * throw new HttpError(409, { code: 'ERR_EMAIL_TAKEN', detail: 'That email is registered.' });
 * ```
 */
export class HttpError extends Error {
  /** Code used when none is given. */
  static readonly code: string = 'ERR_HTTP';
  /** HTTP status code. */
  readonly status: number;
  /** Stable machine-readable code. */
  readonly code: string;
  /** Short summary of the problem type. */
  readonly title: string;
  /** Occurrence-specific explanation, or undefined. */
  readonly detail: string | undefined;
  /** Problem type URI. */
  readonly type: string;
  /** Headers sent with the problem response. */
  readonly headers: Readonly<Record<string, string>>;
  /** Extension members of the problem body. */
  readonly extensions: Readonly<Record<string, unknown>>;

  constructor(status: number, options: HttpErrorOptions = {}) {
    const title = options.title ?? REASON_PHRASES[status] ?? 'Error';
    super(
      options.detail ?? title,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = new.target.name;
    this.status = status;
    this.code = options.code ?? (new.target as typeof HttpError).code;
    this.title = title;
    this.detail = options.detail;
    this.type = options.type ?? 'about:blank';
    this.headers = options.headers ?? {};
    this.extensions = options.extensions ?? {};
  }

  /** @internal brand checked by {@link isHttpError}; survives duplicate copies of this package. */
  get [HTTP_ERROR_BRAND](): true {
    return true;
  }
}

/**
 * Whether `value` is an {@link HttpError}, also when it comes from another copy of
 * `@org/core` (ESM and CommonJS builds loaded side by side).
 */
export function isHttpError(value: unknown): value is HttpError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[HTTP_ERROR_BRAND] === true
  );
}

/** 400: the request is malformed. */
export class BadRequestError extends HttpError {
  static override readonly code: string = 'ERR_BAD_REQUEST';
  constructor(options: HttpErrorOptions = {}) {
    super(400, options);
  }
}

/** Options of {@link UnauthorizedError}. */
export interface UnauthorizedErrorOptions extends HttpErrorOptions {
  /**
   * The `WWW-Authenticate` challenge (RFC 9110 section 11.6.1), for example
   * `Bearer realm="api", error="invalid_token"`. A 401 must carry one.
   * @default 'Bearer realm="api"'
   */
  challenge?: string;
}

/** 401: credentials are missing or invalid. Always carries a `WWW-Authenticate` challenge. */
export class UnauthorizedError extends HttpError {
  static override readonly code: string = 'ERR_UNAUTHORIZED';
  constructor(options: UnauthorizedErrorOptions = {}) {
    super(401, {
      ...options,
      headers: {
        ...options.headers,
        'www-authenticate': options.challenge ?? 'Bearer realm="api"',
      },
    });
  }
}

/** 403: authenticated but not allowed. */
export class ForbiddenError extends HttpError {
  static override readonly code: string = 'ERR_FORBIDDEN';
  constructor(options: HttpErrorOptions = {}) {
    super(403, options);
  }
}

/** 404: no such resource. The detail must never echo the request path. */
export class NotFoundError extends HttpError {
  static override readonly code: string = 'ERR_NOT_FOUND';
  constructor(options: HttpErrorOptions = {}) {
    super(404, options);
  }
}

/** Options of {@link MethodNotAllowedError}. */
export interface MethodNotAllowedErrorOptions extends HttpErrorOptions {
  /** Methods the resource supports, sent as `Allow` (RFC 9110 section 15.5.6). */
  allow?: readonly string[];
}

/** 405: the route exists but not for this method. */
export class MethodNotAllowedError extends HttpError {
  static override readonly code: string = 'ERR_METHOD_NOT_ALLOWED';
  constructor(options: MethodNotAllowedErrorOptions = {}) {
    const { allow, ...rest } = options;
    super(405, allow ? { ...rest, headers: { ...rest.headers, allow: allow.join(', ') } } : rest);
  }
}

/** 409: the request conflicts with the current state (a duplicate email). */
export class ConflictError extends HttpError {
  static override readonly code: string = 'ERR_CONFLICT';
  constructor(options: HttpErrorOptions = {}) {
    super(409, options);
  }
}

/** 413: the body is larger than the configured limit. */
export class PayloadTooLargeError extends HttpError {
  static override readonly code: string = 'ERR_BODY_TOO_LARGE';
  constructor(options: HttpErrorOptions = {}) {
    super(413, options);
  }
}

/** 415: the body's content type is not accepted here. */
export class UnsupportedMediaTypeError extends HttpError {
  static override readonly code: string = 'ERR_UNSUPPORTED_MEDIA_TYPE';
  constructor(options: HttpErrorOptions = {}) {
    super(415, options);
  }
}

/** One failed rule of a 422 answer. */
export interface ValidationIssue {
  /** RFC 6901 JSON pointer into the validated document, for example `/email` or `/items/0/id`. */
  pointer: string;
  /** Where the document came from. */
  location: 'body' | 'query' | 'params' | 'headers';
  /** What is wrong, for a human. */
  detail: string;
  /** Stable code of the rule that failed, for example `invalid_type`. */
  code: string;
}

/** 422: the request is well-formed but its content fails validation. */
export class ValidationError extends HttpError {
  static override readonly code: string = 'ERR_VALIDATION';
  /** Every failed rule. */
  readonly errors: readonly ValidationIssue[];
  constructor(errors: readonly ValidationIssue[], options: HttpErrorOptions = {}) {
    super(422, {
      detail: 'The request failed validation.',
      ...options,
      extensions: { ...options.extensions, errors },
    });
    this.errors = errors;
  }
}

/** Options of errors that may tell the client when to come back. */
export interface RetryableErrorOptions extends HttpErrorOptions {
  /** Seconds until a retry may succeed, sent as `Retry-After` (RFC 9110 section 10.2.3). */
  retryAfter?: number;
}

function withRetryAfter(options: RetryableErrorOptions): HttpErrorOptions {
  const { retryAfter, ...rest } = options;
  if (retryAfter === undefined) return rest;
  return {
    ...rest,
    headers: { ...rest.headers, 'retry-after': String(Math.max(0, Math.ceil(retryAfter))) },
  };
}

/** 429: a rate limit was exceeded. */
export class TooManyRequestsError extends HttpError {
  static override readonly code: string = 'ERR_RATE_LIMITED';
  constructor(options: RetryableErrorOptions = {}) {
    super(429, withRetryAfter(options));
  }
}

/** 503: a dependency of the service is unavailable. */
export class ServiceUnavailableError extends HttpError {
  static override readonly code: string = 'ERR_SERVICE_UNAVAILABLE';
  constructor(options: RetryableErrorOptions = {}) {
    super(503, withRetryAfter(options));
  }
}

/**
 * 504: the request ran past its deadline (`deadlineMs` of a route or of the toolkit):
 * answered at once, while the work it started is told to stop through `ctx.signal`.
 *
 * @example
 * ```ts
 * if (ctx.signal.reason instanceof DeadlineExceededError) return; // stop quietly
 * ```
 */
export class DeadlineExceededError extends HttpError {
  static override readonly code: string = 'ERR_DEADLINE_EXCEEDED';
  constructor(options: HttpErrorOptions = {}) {
    super(504, { detail: 'The request took longer than its deadline.', ...options });
  }
}

/** 500: an unexpected failure. Its body never shows internals outside development mode. */
export class InternalServerError extends HttpError {
  static override readonly code: string = 'ERR_INTERNAL';
  constructor(options: HttpErrorOptions = {}) {
    super(500, options);
  }
}
