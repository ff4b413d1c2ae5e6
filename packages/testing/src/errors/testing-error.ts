/** Stable codes of {@link TestingError}. */
export type TestingErrorCode =
  /** A time that is not a finite number of milliseconds, or a backwards `advance`. */
  | 'ERR_INVALID_TIME'
  /** `createRequester` was given something that is not an app it knows how to call. */
  | 'ERR_UNSUPPORTED_APP'
  /** A request option combination that cannot be sent (`json` and `form` together). */
  | 'ERR_INVALID_REQUEST'
  /** A token factory asked for something its key cannot do (no public key, wrong algorithm). */
  | 'ERR_TOKEN_FACTORY'
  /** Conformance options that cannot work (no app, a limit that is not a positive integer). */
  | 'ERR_CONFORMANCE_OPTIONS';

/**
 * A misuse of a test helper. Switch on `code`, never on the message.
 *
 * @example
 * ```ts
 * try { createRequester(42); } catch (error) {
 *   if (error instanceof TestingError && error.code === 'ERR_UNSUPPORTED_APP') ...
 * }
 * ```
 */
export class TestingError extends Error {
  /** Stable code. */
  readonly code: TestingErrorCode;
  constructor(code: TestingErrorCode, message: string) {
    super(message);
    this.name = 'TestingError';
    this.code = code;
  }
}
