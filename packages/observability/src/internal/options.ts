import { ConfigurationError } from '@org/core';

/**
 * Start-up validation shared by every factory of the package. Each message names the
 * factory, the option and what a valid value looks like, so the fix is obvious.
 */

/** A whole number of milliseconds (or a count) greater than zero, or the fallback when undefined. */
export function positiveInteger(
  where: string,
  option: string,
  value: number | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new ConfigurationError(
      `${where}: ${option} must be a positive integer; received ${String(value)}.`,
    );
  }
  return value;
}

/** A whole number greater than or equal to zero, or the fallback when undefined. */
export function nonNegativeInteger(
  where: string,
  option: string,
  value: number | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) {
    throw new ConfigurationError(
      `${where}: ${option} must be an integer of 0 or more; received ${String(value)}.`,
    );
  }
  return value;
}

/** A function, or undefined. */
export function optionalFunction<F>(
  where: string,
  option: string,
  value: F | undefined,
): F | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new ConfigurationError(
      `${where}: ${option} must be a function; received ${typeof value}.`,
    );
  }
  return value;
}

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
