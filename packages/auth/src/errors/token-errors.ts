import { BadRequestError, UnauthorizedError } from '@org/core';
import { bearerChallenge, quotable } from '../internal/challenge.js';
import type { TokenError } from '../tokens/types.js';

/**
 * The 401 and 400 answers of a protected resource (RFC 6750 section 3): every one
 * is an `application/problem+json` body with a stable `code` and a
 * `WWW-Authenticate: Bearer` challenge.
 */

/** Options shared by the bearer errors. */
export interface BearerErrorOptions {
  /** The protection space named in the challenge (RFC 9110 section 11.5). @default 'api' */
  realm?: string;
  /** The underlying failure, kept for logs and never sent to the client. */
  cause?: unknown;
}

/**
 * 401 `ERR_TOKEN_MISSING`: the request carries no bearer token. RFC 6750 section 3.1:
 * the challenge names the realm only, with no `error` attribute.
 *
 * @example
 * ```ts
 * throw new MissingTokenError({ realm: 'users' }); // WWW-Authenticate: Bearer realm="users"
 * ```
 */
export class MissingTokenError extends UnauthorizedError {
  /** Stable code: `ERR_TOKEN_MISSING`, also the `code` of every instance. */
  static override readonly code = 'ERR_TOKEN_MISSING';
  constructor(options: BearerErrorOptions = {}) {
    super({
      code: MissingTokenError.code,
      detail: 'An access token is required.',
      challenge: bearerChallenge(quotable(options.realm ?? 'api')),
      cause: options.cause,
    });
  }
}

/** Options of {@link InvalidTokenError}. */
export interface InvalidTokenErrorOptions extends BearerErrorOptions {
  /** `ERR_TOKEN_EXPIRED` for an expired token, else `ERR_TOKEN_INVALID`. @default 'ERR_TOKEN_INVALID' */
  code?: 'ERR_TOKEN_INVALID' | 'ERR_TOKEN_EXPIRED';
  /** A fixed, token-free explanation for `error_description` and the problem `detail`. @default 'The access token is invalid.' */
  description?: string;
}

/**
 * 401 `ERR_TOKEN_INVALID` or `ERR_TOKEN_EXPIRED`: a token was sent and rejected
 * (RFC 6750 section 3.1 `invalid_token`: expired, revoked, malformed or otherwise invalid).
 *
 * @example
 * ```ts
 * throw new InvalidTokenError({ code: 'ERR_TOKEN_EXPIRED', description: 'The access token expired.' });
 * // WWW-Authenticate: Bearer realm="api", error="invalid_token", error_description="The access token expired."
 * ```
 */
export class InvalidTokenError extends UnauthorizedError {
  /** Code used when the options give none: `ERR_TOKEN_INVALID` (an expired token is `ERR_TOKEN_EXPIRED`). */
  static override readonly code: string = 'ERR_TOKEN_INVALID';
  constructor(options: InvalidTokenErrorOptions = {}) {
    const description = quotable(options.description ?? 'The access token is invalid.');
    super({
      code: options.code ?? InvalidTokenError.code,
      detail: description,
      challenge: bearerChallenge(quotable(options.realm ?? 'api'), {
        error: 'invalid_token',
        description,
      }),
      cause: options.cause,
    });
  }

  /**
   * The 401 for a verifier's {@link TokenError}: its code and description carried over
   * (a `ERR_TOKEN_MISSING` becomes a {@link MissingTokenError}).
   */
  static fromTokenError(error: TokenError, realm = 'api'): UnauthorizedError {
    if (error.code === 'ERR_TOKEN_MISSING') return new MissingTokenError({ realm, cause: error });
    return new InvalidTokenError({
      realm,
      code: error.code,
      description: error.description,
      cause: error,
    });
  }
}

/**
 * 400 `ERR_AUTHORIZATION_MALFORMED`: the request itself is malformed, for example it
 * repeats the `Authorization` header or sends `Bearer` with no token or with several
 * (RFC 6750 section 3.1 `invalid_request`).
 */
export class MalformedAuthorizationError extends BadRequestError {
  /** Stable code: `ERR_AUTHORIZATION_MALFORMED`, also the `code` of every instance. */
  static override readonly code = 'ERR_AUTHORIZATION_MALFORMED';
  constructor(options: BearerErrorOptions & { description?: string } = {}) {
    const description = quotable(
      options.description ?? "Send one Authorization header of the form 'Bearer <token>'.",
    );
    super({
      code: MalformedAuthorizationError.code,
      detail: description,
      headers: {
        'www-authenticate': bearerChallenge(quotable(options.realm ?? 'api'), {
          error: 'invalid_request',
          description,
        }),
      },
      cause: options.cause,
    });
  }
}
