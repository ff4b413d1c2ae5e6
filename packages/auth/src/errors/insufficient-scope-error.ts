import { ForbiddenError } from '@org/core';
import { bearerChallenge, quotable } from '../internal/challenge.js';

/** Options of {@link InsufficientScopeError}. */
export interface InsufficientScopeErrorOptions {
  /** The scopes the resource requires, named in the challenge's `scope` attribute. */
  scopes: readonly string[];
  /** The protection space named in the challenge. @default 'api' */
  realm?: string;
}

/**
 * 403 `ERR_INSUFFICIENT_SCOPE`: the token is valid but lacks a scope the resource
 * requires. RFC 6750 section 3.1: the challenge carries `error="insufficient_scope"`
 * and a `scope` attribute listing the scopes needed.
 *
 * @example
 * ```ts
 * throw new InsufficientScopeError({ scopes: ['users:write'] });
 * // 403, WWW-Authenticate: Bearer realm="api", error="insufficient_scope", scope="users:write"
 * ```
 */
export class InsufficientScopeError extends ForbiddenError {
  /** Stable code: `ERR_INSUFFICIENT_SCOPE`, also the `code` of every instance. */
  static override readonly code = 'ERR_INSUFFICIENT_SCOPE';
  /** The scopes the resource requires. */
  readonly scopes: readonly string[];
  constructor(options: InsufficientScopeErrorOptions) {
    const scope = options.scopes.join(' ');
    super({
      code: InsufficientScopeError.code,
      detail: 'The access token lacks a scope this resource requires.',
      headers: {
        'www-authenticate': bearerChallenge(quotable(options.realm ?? 'api'), {
          error: 'insufficient_scope',
          description: 'The access token lacks a required scope.',
          scope,
        }),
      },
      extensions: { required_scopes: options.scopes },
    });
    this.scopes = options.scopes;
  }
}

/** Every stable problem `code` the auth dependencies and guards answer with. */
export type AuthErrorCode =
  | 'ERR_TOKEN_MISSING'
  | 'ERR_TOKEN_INVALID'
  | 'ERR_TOKEN_EXPIRED'
  | 'ERR_AUTHORIZATION_MALFORMED'
  | 'ERR_FORBIDDEN'
  | 'ERR_INSUFFICIENT_SCOPE'
  | 'ERR_NOT_FOUND';
