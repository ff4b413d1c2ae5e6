import { UnauthorizedError } from '@org/core';
import { invalidTokenRefusal } from '../internal/challenge.js';

/**
 * Stable codes of API key refusals.
 *
 * @example
 * ```ts
 * if (error instanceof ApiKeyError && error.code === 'ERR_API_KEY_EXPIRED') notifyOwner();
 * ```
 */
export type ApiKeyErrorCode =
  | 'ERR_API_KEY_MALFORMED'
  | 'ERR_API_KEY_INVALID'
  | 'ERR_API_KEY_REVOKED'
  | 'ERR_API_KEY_EXPIRED';

// Fixed texts: a refusal never echoes the key, nor says whether an id exists.
const DESCRIPTIONS: Readonly<Record<ApiKeyErrorCode, string>> = {
  ERR_API_KEY_MALFORMED: 'The API key is malformed.',
  ERR_API_KEY_INVALID: 'The API key is invalid.',
  ERR_API_KEY_REVOKED: 'The API key was revoked.',
  ERR_API_KEY_EXPIRED: 'The API key expired.',
};

/**
 * Options of {@link ApiKeyError}.
 *
 * @example
 * ```ts
 * throw new ApiKeyError('ERR_API_KEY_INVALID', { realm: 'partners' });
 * ```
 */
export interface ApiKeyErrorOptions {
  /** The realm of the challenge. @default 'api' */
  realm?: string;
  /** The underlying failure, for logs only. */
  cause?: unknown;
}

/**
 * An API key was refused: a 401 problem wherever it is thrown, with a
 * `WWW-Authenticate: Bearer ... error="invalid_token"` challenge (RFC 6750 section 3.1),
 * and a `code` that says why:
 *
 * - `ERR_API_KEY_MALFORMED`: wrong prefix, shape or checksum; refused before any store lookup.
 * - `ERR_API_KEY_INVALID`: well formed, but unknown or its secret does not match.
 * - `ERR_API_KEY_REVOKED`: the right secret of a revoked key.
 * - `ERR_API_KEY_EXPIRED`: the right secret of an expired key (or of a rotated key after its overlap).
 *
 * @example
 * ```ts
 * try {
 *   await apiKeys.verify(key);
 * } catch (error) {
 *   if (error instanceof ApiKeyError && error.code === 'ERR_API_KEY_REVOKED') alertOwner();
 *   throw error;
 * }
 * ```
 */
export class ApiKeyError extends UnauthorizedError {
  /** The class's default code, `ERR_API_KEY_INVALID`; an instance's `code` says which refusal it is. */
  static override readonly code: string = 'ERR_API_KEY_INVALID';
  /** `ERR_API_KEY_MALFORMED`. */
  static readonly MALFORMED = 'ERR_API_KEY_MALFORMED';
  /** `ERR_API_KEY_INVALID`. */
  static readonly INVALID = 'ERR_API_KEY_INVALID';
  /** `ERR_API_KEY_REVOKED`. */
  static readonly REVOKED = 'ERR_API_KEY_REVOKED';
  /** `ERR_API_KEY_EXPIRED`. */
  static readonly EXPIRED = 'ERR_API_KEY_EXPIRED';
  /** Stable code. */
  declare readonly code: ApiKeyErrorCode;

  constructor(code: ApiKeyErrorCode, options: ApiKeyErrorOptions = {}) {
    super(invalidTokenRefusal(code, DESCRIPTIONS[code], options));
  }
}
