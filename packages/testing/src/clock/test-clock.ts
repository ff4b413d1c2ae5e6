import type { Clock } from '@org/core';
import { TestingError } from '../errors/testing-error.js';

/**
 * The part of vitest's `vi` a {@link TestClock} needs to follow fake timers. Pass
 * `vi` itself; any fake-timer library with the same three methods works too.
 */
export interface FakeTimerControls {
  /** Whether fake timers are installed right now (`vi.isFakeTimers()`). */
  isFakeTimers(): boolean;
  /** Moves fake time forward, firing the timers due (`vi.advanceTimersByTime`). */
  advanceTimersByTime(ms: number): unknown;
  /** Sets the faked `Date.now()` without firing timers (`vi.setSystemTime`). */
  setSystemTime(time: number | Date): unknown;
}

/** Options of {@link createTestClock}. */
export interface TestClockOptions {
  /** The starting instant. @default the real `Date.now()` when the clock is created */
  start?: Date | number | string;
  /**
   * Follow fake timers: while `fakeTimers.isFakeTimers()` is true, `now()` reads
   * `Date.now()` and `advance`/`set` move the fake timers (so `setTimeout`s fire
   * too); while it is false the clock keeps its own time.
   * @default undefined (the clock keeps its own time and never touches timers)
   */
  fakeTimers?: FakeTimerControls;
}

/**
 * A {@link Clock} that only moves when a test says so. Hand the same instance to
 * every `clock` option of the app, and one `advance` moves all of them at once.
 */
export interface TestClock extends Clock {
  /** Milliseconds since the epoch, as the toolkit reads it. */
  now(): number;
  /** Moves time forward by `ms` (0 or more) and returns the new `now()`. */
  advance(ms: number): number;
  /** Jumps to `time`, forwards or backwards (a clock step, an NTP correction). */
  set(time: Date | number | string): void;
  /** Whether `now()` currently reads vitest's fake `Date.now()`. */
  readonly followingFakeTimers: boolean;
}

function toMillis(time: Date | number | string, option: string): number {
  const ms =
    time instanceof Date ? time.getTime() : typeof time === 'string' ? Date.parse(time) : time;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new TestingError(
      'ERR_INVALID_TIME',
      `${option} must be a Date, an ISO date string or finite milliseconds; received ${String(time)}.`,
    );
  }
  return ms;
}

/**
 * Creates a test clock: the one source of time for tokens (`iat`/`exp` and their
 * verification), refresh-token expiry, rate-limit windows, login brute-force
 * windows and health-check caches. Every toolkit factory that reads time takes a
 * `clock` option; pass this clock to all of them.
 *
 * With `fakeTimers: vi`, the clock follows vitest's fake timers, so `setTimeout`-based
 * code moves with it (second example).
 *
 * @param options the starting instant, or {@link TestClockOptions}.
 * @example
 * ```ts
 * const clock = createTestClock(new Date('2030-01-01T00:00:00Z'));
 * const signer = createAccessTokenSigner({ keySet, issuer, audience, clock, expiresIn: 900 });
 * const verifier = createAccessTokenVerifier({ keySet, issuer, audience, clock });
 * const refresh = createRefreshTokenManager({ clock });
 * const token = (await signer.sign({ subject: 'u1' })).token;
 * clock.advance(15 * 60_000 + 31_000);         // past exp and the 30 s tolerance
 * await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'ERR_TOKEN_EXPIRED' });
 * ```
 * @example
 * ```ts
 * vi.useFakeTimers();
 * const clock = createTestClock({ fakeTimers: vi });
 * clock.advance(60_000); // vi.advanceTimersByTime(60_000): Date.now() and timers move
 * ```
 */
export function createTestClock(
  options: TestClockOptions | Date | number | string = {},
): TestClock {
  const settings: TestClockOptions =
    options instanceof Date || typeof options !== 'object' ? { start: options } : options;
  let own = settings.start === undefined ? Date.now() : toMillis(settings.start, 'start');
  const timers = settings.fakeTimers;
  const following = (): boolean => timers?.isFakeTimers() === true;

  return {
    now: () => (following() ? Date.now() : own),
    advance(ms: number): number {
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
        throw new TestingError(
          'ERR_INVALID_TIME',
          `advance(ms) takes 0 or more finite milliseconds; received ${String(ms)}. Use set() to go back.`,
        );
      }
      if (following()) {
        timers?.advanceTimersByTime(ms);
        return Date.now();
      }
      own += ms;
      return own;
    },
    set(time: Date | number | string): void {
      const ms = toMillis(time, 'set(time)');
      if (following()) timers?.setSystemTime(ms);
      else own = ms;
    },
    get followingFakeTimers() {
      return following();
    },
  };
}
