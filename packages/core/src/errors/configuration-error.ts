/** Options of {@link ConfigurationError}. */
export interface ConfigurationErrorOptions {
  /** One line per bad setting (`NAME: what is wrong`), when there are several. @default [] */
  problems?: readonly string[];
  /** The error that revealed the problem. */
  cause?: unknown;
}

/**
 * Bad configuration, found at start-up: a toolkit or feature option, or the environment
 * read by `loadConfig`. The message names the option and the fix; values are never echoed.
 */
export class ConfigurationError extends Error {
  /** Stable code. */
  static readonly code = 'ERR_CONFIGURATION';
  /** Stable code. */
  readonly code = ConfigurationError.code;
  /** One line per bad setting, when the error lists several (`loadConfig`). */
  readonly problems: readonly string[];

  constructor(message: string, options: ConfigurationErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ConfigurationError';
    this.problems = options.problems ?? [];
  }
}
