/**
 * The source of time for everything in the toolkit that reads it: token `iat`/`exp`
 * and verification, refresh expiry, rate-limit and brute-force windows, health
 * caches. Pass a test clock (from `@org/testing`) to drive them all at once.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch, like `Date.now()`. */
  now(): number;
}

/** The real clock: `Date.now()`, so vitest's fake timers drive it too. */
export const systemClock: Clock = Object.freeze({ now: () => Date.now() });
