/**
 * Contracts shared inside @org/auth between token verification and the request
 * dependencies (`currentUser`, guards).
 */

/** The claims of a verified access token (RFC 9068 section 2.2). */
export interface AccessTokenClaims {
  /** Subject: the user id. */
  readonly sub: string;
  /** Issuer. */
  readonly iss: string;
  /** Audience. */
  readonly aud: string | readonly string[];
  /** Expiry, seconds since the epoch. */
  readonly exp: number;
  /** Issued at, seconds since the epoch. */
  readonly iat: number;
  /** Unique token id. */
  readonly jti: string;
  /** Roles granted at issue time. */
  readonly roles?: readonly string[];
  /** OAuth2 scopes, space-separated (RFC 8693 section 4.2). */
  readonly scope?: string;
  /** Any other claim. */
  readonly [claim: string]: unknown;
}

/** Verifies an access token string; rejects with a {@link TokenError}. */
export interface AccessTokenVerifier {
  /**
   * Checks the token's signature and claims; resolves with its claims. Rejects with a
   * {@link TokenError}: `ERR_TOKEN_EXPIRED` for an authentic but expired token,
   * `ERR_TOKEN_INVALID` for anything else (a remote verifier that has no keys yet
   * rejects with a 503 instead).
   */
  verify(token: string): Promise<AccessTokenClaims>;
  /**
   * The claims of `token` when this verifier has verified it before and they still hold
   * (its verified-token cache), else undefined. Never throws. Lets `createAuth` admit a
   * known token without a promise and without its b64token check (the token passed that
   * check before it was verified); a verifier without a cache leaves it out.
   */
  cachedClaims?(token: string): AccessTokenClaims | undefined;
}

/** Stable codes of token failures; they become the problem `code` of the 401. */
export type TokenErrorCode = 'ERR_TOKEN_MISSING' | 'ERR_TOKEN_INVALID' | 'ERR_TOKEN_EXPIRED';

/** A token was missing, invalid or expired. `description` is safe to show in `error_description`. */
export class TokenError extends Error {
  /** Stable code. */
  readonly code: TokenErrorCode;
  /** A short, fixed description for RFC 6750 `error_description` (never echoes the token). */
  readonly description: string;
  constructor(code: TokenErrorCode, description: string, options?: { cause?: unknown }) {
    super(description, options);
    this.name = 'TokenError';
    this.code = code;
    this.description = description;
  }
}
