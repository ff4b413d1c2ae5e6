const INSTALL =
  'Install PostgreSQL (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql) and run the tests again.';

/**
 * The PostgreSQL server binaries (`initdb` and `postgres`) are not installed, or the
 * test runs as root on a machine without the `postgres` user the Debian package
 * creates. The message says how to install them.
 *
 * @example
 * ```ts
 * try {
 *   await startPostgres();
 * } catch (error) {
 *   if (error instanceof PostgresNotInstalledError) console.error(error.message);
 *   throw error;
 * }
 * ```
 */
export class PostgresNotInstalledError extends Error {
  /** Stable code. */
  static readonly code = 'ERR_POSTGRES_NOT_INSTALLED';
  /** Stable code. */
  readonly code = PostgresNotInstalledError.code;
  /** @param problem What is missing, as a sentence. */
  constructor(problem: string) {
    super(`${problem} ${INSTALL}`);
    this.name = 'PostgresNotInstalledError';
  }
}

/**
 * A PostgreSQL test server could not be created or started: `initdb` failed, or
 * `postgres` exited or did not accept connections in time. The message carries the
 * server's own output.
 *
 * @example
 * ```ts
 * const error = await startPostgres({ startTimeoutMs: 1 }).catch((e: unknown) => e);
 * if (error instanceof PostgresStartError) console.error(error.message);
 * ```
 */
export class PostgresStartError extends Error {
  /** Stable code. */
  static readonly code = 'ERR_POSTGRES_START';
  /** Stable code. */
  readonly code = PostgresStartError.code;
  /** @param message What failed, with the program's output. */
  constructor(message: string) {
    super(message);
    this.name = 'PostgresStartError';
  }
}
