import { ConfigurationError } from '@org/core';

/**
 * Start-up validation shared by every factory. Each failure is a
 * {@link ConfigurationError} whose message names the factory, the option and the fix.
 */

/** A positive integer option, or its default. */
export function positiveInteger(
  factory: string,
  option: string,
  value: number | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigurationError(
      `${factory}: \`${option}\` must be a positive integer; received ${String(value)}.`,
    );
  }
  return value;
}

/** An integer option within `[min, max]`, or its default. */
export function integerInRange(
  factory: string,
  option: string,
  value: number | undefined,
  range: { min: number; max: number; fallback: number },
): number {
  if (value === undefined) return range.fallback;
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    throw new ConfigurationError(
      `${factory}: \`${option}\` must be an integer from ${range.min} to ${range.max}; received ${String(value)}.`,
    );
  }
  return value;
}

/** A boolean option, or its default; rejects truthy non-booleans such as `'false'`. */
export function booleanOption(
  factory: string,
  option: string,
  value: boolean | undefined,
  fallback: boolean,
): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new ConfigurationError(
      `${factory}: \`${option}\` must be true or false; received ${JSON.stringify(value)}.`,
    );
  }
  return value;
}

/** A function option, or its default. */
export function functionOption<F>(
  factory: string,
  option: string,
  value: F | undefined,
  fallback: F,
): F {
  if (value === undefined) return fallback;
  if (typeof value !== 'function') {
    throw new ConfigurationError(`${factory}: \`${option}\` must be a function.`);
  }
  return value;
}
