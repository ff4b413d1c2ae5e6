/** Stable codes of {@link PasswordError}. */
export type PasswordErrorCode =
  | 'ERR_PASSWORD_TOO_LONG'
  | 'ERR_PASSWORD_HASH_UNSUPPORTED'
  | 'ERR_BCRYPT_UNAVAILABLE';

/**
 * A password could not be hashed or a stored hash could not be read.
 * - `ERR_PASSWORD_TOO_LONG`: longer than `maxLength`; answer 422, never hash it.
 * - `ERR_PASSWORD_HASH_UNSUPPORTED`: the stored hash is neither scrypt PHC nor bcrypt.
 * - `ERR_BCRYPT_UNAVAILABLE`: a bcrypt hash was met and `bcryptjs` is not installed.
 */
export class PasswordError extends Error {
  /** Stable code. */
  readonly code: PasswordErrorCode;
  constructor(code: PasswordErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PasswordError';
    this.code = code;
  }
}
