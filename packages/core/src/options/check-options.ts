import { ConfigurationError } from '../errors/configuration-error.js';

/**
 * Start-up checks for factory options, shared by every package of the toolkit. Each
 * failure is a {@link ConfigurationError} whose message names the factory (`where`), the
 * option and what a valid value looks like; a value is shown only as its type or number.
 */

/**
 * A deadline in milliseconds: a whole number from 1 to the longest timer delay (about
 * 24.8 days); `false` (a route turning the toolkit's default off) and undefined pass.
 */
export function deadlineOption(
  where: string,
  value: number | false | undefined,
): number | false | undefined {
  if (value === undefined || value === false) return value;
  return integerInRange(where, 'deadlineMs', value, { min: 1, max: 2 ** 31 - 1, fallback: 0 });
}

/** A whole number above zero, or `fallback` when undefined. */
export function positiveInteger(
  where: string,
  option: string,
  value: number | undefined,
  fallback: number,
): number {
  return integerInRange(where, option, value, {
    min: 1,
    max: Number.MAX_SAFE_INTEGER,
    fallback,
  });
}

/** A whole number of zero or more, or `fallback` when undefined. */
export function nonNegativeInteger(
  where: string,
  option: string,
  value: number | undefined,
  fallback: number,
): number {
  return integerInRange(where, option, value, {
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    fallback,
  });
}

/** A whole number within `[min, max]`, or `fallback` when undefined. */
export function integerInRange(
  where: string,
  option: string,
  value: number | undefined,
  range: { readonly min: number; readonly max: number; readonly fallback: number },
): number {
  if (value === undefined) return range.fallback;
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
    const bounds =
      range.max === Number.MAX_SAFE_INTEGER
        ? range.min === 1
          ? 'a positive integer'
          : `an integer of ${range.min} or more`
        : `an integer from ${range.min} to ${range.max}`;
    throw new ConfigurationError(
      `${where}: ${option} must be ${bounds}; received ${describe(value)}.`,
    );
  }
  return value;
}

/** `true` or `false` (never a truthy string such as `'false'`), or `fallback` when undefined. */
export function booleanOption(
  where: string,
  option: string,
  value: boolean | undefined,
  fallback: boolean,
): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new ConfigurationError(
      `${where}: ${option} must be true or false; received ${describe(value)}.`,
    );
  }
  return value;
}

/** A function, or `fallback` (which may be undefined) when undefined. */
export function functionOption<F, D extends F | undefined>(
  where: string,
  option: string,
  value: F | undefined,
  fallback: D,
): F | D {
  if (value === undefined) return fallback;
  if (typeof value !== 'function') {
    throw new ConfigurationError(
      `${where}: ${option} must be a function; received ${describe(value)}.`,
    );
  }
  return value;
}

/** A value as a message may show it: numbers, booleans and short strings as they are, else its type. */
function describe(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return value.length <= 32 ? JSON.stringify(value) : 'a string';
  return value === null ? 'null' : typeof value;
}
