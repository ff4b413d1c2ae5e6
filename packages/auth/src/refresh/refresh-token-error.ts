import { UnauthorizedError } from '@org/core';
import { invalidTokenRefusal } from '../internal/challenge.js';

/** Stable codes of refresh-token failures. */
export type RefreshTokenErrorCode =
  | 'ERR_REFRESH_INVALID'
  | 'ERR_REFRESH_REUSED'
  | 'ERR_REFRESH_EXPIRED';

const DESCRIPTIONS: Readonly<Record<RefreshTokenErrorCode, string>> = {
  ERR_REFRESH_INVALID: 'The refresh token is invalid.',
  ERR_REFRESH_REUSED: 'The refresh token was already used; its session has been revoked.',
  ERR_REFRESH_EXPIRED: 'The refresh token expired.',
};

/** Options of {@link RefreshTokenError}. */
export interface RefreshTokenErrorOptions {
  /** The realm of the challenge. @default 'api' */
  realm?: string;
  /** The underlying failure, for logs only. */
  cause?: unknown;
}

/**
 * A refresh token was refused. It is a 401 problem wherever it is thrown (a
 * `WWW-Authenticate: Bearer ... error="invalid_token"` challenge included), and its
 * `code` tells callers why:
 *
 * - `ERR_REFRESH_INVALID`: unknown, malformed, revoked or never issued.
 * - `ERR_REFRESH_REUSED`: already spent; the whole family was revoked (RFC 9700
 *   section 4.14.2), so the client must log in again.
 * - `ERR_REFRESH_EXPIRED`: past its own expiry or its family's absolute lifetime.
 *
 * @example
 * ```ts
 * try {
 *   await refreshTokens.rotate(token);
 * } catch (error) {
 *   if (error instanceof RefreshTokenError && error.code === 'ERR_REFRESH_REUSED') alertSecurityTeam();
 *   throw error;
 * }
 * ```
 */
export class RefreshTokenError extends UnauthorizedError {
  /** The class's default code, `ERR_REFRESH_INVALID`; an instance's `code` says which refusal it is. */
  static override readonly code: string = 'ERR_REFRESH_INVALID';
  /** `ERR_REFRESH_INVALID`. */
  static readonly INVALID = 'ERR_REFRESH_INVALID';
  /** `ERR_REFRESH_REUSED`. */
  static readonly REUSED = 'ERR_REFRESH_REUSED';
  /** `ERR_REFRESH_EXPIRED`. */
  static readonly EXPIRED = 'ERR_REFRESH_EXPIRED';
  /** Stable code. */
  declare readonly code: RefreshTokenErrorCode;

  constructor(code: RefreshTokenErrorCode, options: RefreshTokenErrorOptions = {}) {
    super(invalidTokenRefusal(code, DESCRIPTIONS[code], options));
  }
}
