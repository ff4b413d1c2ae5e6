import { ConfigurationError } from '@org/core';

/** The smallest logger the package writes to: what any pino logger provides. */
export interface StructuredLogger {
  /** Writes `object`'s fields and `message` at `info` level (pino's merging-object form). */
  info(object: object, message?: string): void;
  /** Writes `object`'s fields and `message` at `warn` level. */
  warn(object: object, message?: string): void;
  /** Writes `object`'s fields and `message` at `error` level; an `err` field carries the error. */
  error(object: object, message?: string): void;
}

/** Checks that a logger option has the three methods the package calls. */
export function optionalLogger<L extends Partial<StructuredLogger>>(
  where: string,
  option: string,
  value: L | undefined,
  required: readonly (keyof StructuredLogger)[],
): L | undefined {
  if (value === undefined) return undefined;
  for (const method of required) {
    if (typeof value[method] !== 'function') {
      throw new ConfigurationError(
        `${where}: ${option} must be a logger with a ${method}() method (a pino logger from createLogger works).`,
      );
    }
  }
  return value;
}
