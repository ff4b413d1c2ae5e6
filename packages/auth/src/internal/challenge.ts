import { ConfigurationError } from '@org/core';

/**
 * Builders of RFC 6750 section 3 `WWW-Authenticate: Bearer` challenges. Attribute
 * values are RFC 9110 quoted-strings; RFC 6750 section 3 further limits
 * `error_description` and `scope` to %x20-21 / %x23-5B / %x5D-7E, so neither a quote
 * nor a backslash can ever appear and no escaping is needed.
 */

const QUOTABLE = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;
const UNQUOTABLE = /[^\x20\x21\x23-\x5B\x5D-\x7E]/g;

/** Checks a configured realm once, at start-up. */
export function checkRealm(option: string, realm: string): string {
  if (realm === '' || !QUOTABLE.test(realm)) {
    throw new ConfigurationError(
      `${option} must be non-empty printable ASCII without '"' or '\\'; received ${JSON.stringify(realm)}.`,
    );
  }
  return realm;
}

/** A value made safe for a challenge attribute: characters RFC 6750 forbids become `?`. */
export function quotable(value: string): string {
  return QUOTABLE.test(value) ? value : value.replace(UNQUOTABLE, '?');
}

/** The RFC 6750 error codes of section 3.1. */
export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

/** Attributes of a challenge beyond the realm. */
export interface ChallengeAttributes {
  readonly error?: BearerErrorCode;
  readonly description?: string;
  readonly scope?: string;
}

/**
 * `Bearer realm="..."`, followed by `error`, `error_description` and `scope` when given.
 * RFC 6750 section 3: a request without credentials gets the realm only.
 */
export function bearerChallenge(realm: string, attributes: ChallengeAttributes = {}): string {
  let challenge = `Bearer realm="${realm}"`;
  if (attributes.error !== undefined) challenge += `, error="${attributes.error}"`;
  if (attributes.description !== undefined)
    challenge += `, error_description="${quotable(attributes.description)}"`;
  if (attributes.scope !== undefined) challenge += `, scope="${quotable(attributes.scope)}"`;
  return challenge;
}

/**
 * What an `UnauthorizedError` subclass with its own codes (refresh tokens, API keys) is
 * made with: the code's fixed text as `detail` and as the `invalid_token` challenge's
 * description (RFC 6750 section 3.1).
 */
export function invalidTokenRefusal(
  code: string,
  description: string,
  options: { readonly realm?: string | undefined; readonly cause?: unknown },
) {
  return {
    code,
    detail: description,
    challenge: bearerChallenge(quotable(options.realm ?? 'api'), {
      error: 'invalid_token',
      description,
    }),
    cause: options.cause,
  };
}
