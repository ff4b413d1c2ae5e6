import { createHash } from 'node:crypto';
import {
  type Clock,
  type Context,
  createContextKey,
  type LockoutKeyKind,
  type SecurityEvent,
  securityEventChannel,
  systemClock,
  TooManyRequestsError,
} from '@org/core';
import { booleanOption, functionOption, positiveInteger } from '@org/core/adapter';
import { ipKey } from '../client-ip/ip-address.js';
import { MemoryRateLimitStore } from '../rate-limit/memory-store.js';
import { claimPolicyNames } from '../rate-limit/policy.js';
import {
  type HitResult,
  type PolicyLimits,
  type RateLimitStore,
  windowStartOf,
} from '../rate-limit/store.js';
import { FAIL_OPEN_RESULT, StoreFallback } from '../rate-limit/store-fallback.js';

/** Options of {@link createLoginGuard}. */
export interface LoginGuardOptions {
  /** Where failure counts live; a {@link RedisRateLimitStore} shares them across instances. @default a new memory store */
  store?: RateLimitStore;
  /** Failures of one account from one IP (IPv6 /64) that block that pair. @default 5 */
  maxFailuresPerIp?: number;
  /**
   * Failures of one account from all addresses that block the account everywhere
   * (slows a password-spraying botnet). Set it well above `maxFailuresPerIp`: an
   * attacker can use it to lock a real user out. `false` turns it off.
   * @default 100
   */
  maxFailuresPerAccount?: number | false;
  /** The counting window, opened by the first failure. @default 900000 (15 minutes) */
  windowMs?: number;
  /** Canonical account name, so `Bob@Example.com ` and `bob@example.com` share a count. @default trim and lower-case */
  normalizeAccount?: (account: string) => string;
  /** A memory store that takes over while `store` fails; false fails open or closed. @default true */
  insurance?: boolean;
  /** With no insurance, whether a store failure lets the attempt through (true) or answers 503. @default false */
  failOpen?: boolean;
  /** Source of time. @default systemClock */
  clock?: Clock;
}

/**
 * Throttles password guessing. Call {@link LoginGuard.check} before verifying a
 * password and record the outcome after; the count lives per (account, IP) and per
 * account, so one attacker cannot lock a user out from the user's own address.
 */
export interface LoginGuard {
  /**
   * Throws a 429 `TooManyRequestsError` (code `ERR_LOGIN_BLOCKED`, with `Retry-After`)
   * when this account is blocked from this client, even if the password would be right.
   * Otherwise it counts the attempt as a failure in advance (so parallel guesses are
   * throttled too), which {@link LoginGuard.recordSuccess} forgives.
   */
  check(ctx: Context, account: string): Promise<void>;
  /** Counts a failed attempt (wrong password or unknown account: count both alike); not twice after `check`. */
  recordFailure(ctx: Context, account: string): Promise<void>;
  /** Clears this (account, IP) pair's failures after a correct password. */
  recordSuccess(ctx: Context, account: string): Promise<void>;
  /**
   * Gives back the attempt {@link LoginGuard.check} counted in advance, when the login
   * ended without checking the password (the hasher refused it with a 503, the user
   * store failed): otherwise a user retrying through an overload locks themselves out.
   * Never call it once a password was checked: a refund then is a free guess. The
   * stores must implement `refund` (the toolkit's memory and Redis stores do).
   *
   * @example
   * ```ts
   * await guard.check(ctx, email);
   * try {
   *   user = await authenticate({ hasher, user: found, password, passwordHash });
   * } catch (error) {
   *   await guard.release(ctx, email); // no verdict was reached
   *   throw error;
   * }
   * ```
   */
  release(ctx: Context, account: string): Promise<void>;
}

const FACTORY = 'createLoginGuard';
/** The attempt {@link LoginGuard.check} already counted on this request, and the pair's count after it. */
interface Reservation {
  /** The (account, IP) key; '' once `recordFailure` has used the reservation. */
  readonly pair: string;
  /** The pair's hit in `check`; undefined when the store failed open. */
  readonly hit: HitResult | undefined;
  /** The clock when `check` counted it. */
  readonly at: number;
}
const reservedKey = createContextKey<Reservation>('loginGuardReserved');
const SPENT: Reservation = { pair: '', hit: undefined, at: 0 };
/** Most lockouts remembered for `lockout.ended`; beyond it the oldest end unannounced. */
const MAX_TRACKED_LOCKOUTS = 10_000;

interface Lockout {
  readonly kind: LockoutKeyKind;
  readonly clientIp: string | undefined;
  readonly until: number;
}
const defaultNormalize = (account: string): string => account.trim().toLowerCase();

class Guard implements LoginGuard {
  readonly #perIp: PolicyLimits;
  readonly #perAccount: PolicyLimits | undefined;
  readonly #store: StoreFallback;
  readonly #normalize: (account: string) => string;
  readonly #clock: Clock;
  /** Lockouts this guard started while someone listened, for `lockout.ended`. */
  readonly #lockouts = new Map<string, Lockout>();
  #nextEnd = Number.POSITIVE_INFINITY;

  constructor(options: LoginGuardOptions) {
    const windowMs = positiveInteger(FACTORY, 'windowMs', options.windowMs, 15 * 60_000);
    const perIp = positiveInteger(FACTORY, 'maxFailuresPerIp', options.maxFailuresPerIp, 5);
    const perAccount =
      options.maxFailuresPerAccount === false
        ? undefined
        : positiveInteger(FACTORY, 'maxFailuresPerAccount', options.maxFailuresPerAccount, 100);
    this.#perIp = { name: 'login-ip', algorithm: 'fixed-window', limit: perIp, windowMs };
    this.#perAccount =
      perAccount === undefined
        ? undefined
        : { name: 'login-account', algorithm: 'fixed-window', limit: perAccount, windowMs };
    const store = options.store ?? new MemoryRateLimitStore();
    claimPolicyNames(
      store,
      this.#perAccount ? [this.#perIp, this.#perAccount] : [this.#perIp],
      FACTORY,
    );
    this.#store = new StoreFallback(
      store,
      booleanOption(FACTORY, 'insurance', options.insurance, true)
        ? new MemoryRateLimitStore()
        : undefined,
      booleanOption(FACTORY, 'failOpen', options.failOpen, false),
    );
    this.#normalize = functionOption(
      FACTORY,
      'normalizeAccount',
      options.normalizeAccount,
      defaultNormalize,
    );
    this.#clock = options.clock ?? systemClock;
  }

  /** Keys never hold the account name itself: a dump of the store leaks no user list. */
  #keys(ctx: Context, account: string): { pair: string; account: string } {
    const id = createHash('sha256')
      .update(this.#normalize(account))
      .digest('base64url')
      .slice(0, 22);
    return { pair: `${id}:${ipKey(ctx.clientIp)}`, account: id };
  }

  /** Publishes `lockout.started` when a hit used the last allowed failure. */
  #maybeLocked(
    ctx: Context,
    kind: LockoutKeyKind,
    key: string,
    hit: HitResult | undefined | false,
    at: number,
  ): void {
    if (!hit || hit === FAIL_OPEN_RESULT || !hit.allowed || hit.remaining !== 0) return;
    if (!securityEventChannel.hasSubscribers) return;
    const until = at + hit.resetMs;
    securityEventChannel.publish({
      event: 'lockout.started',
      time: this.#clock.now(),
      request_id: ctx.requestId,
      client_ip: ctx.clientIp,
      key_kind: kind,
      until,
    } satisfies SecurityEvent);
    if (this.#lockouts.size >= MAX_TRACKED_LOCKOUTS) {
      const oldest = this.#lockouts.keys().next().value as string;
      this.#lockouts.delete(oldest);
    }
    this.#lockouts.set(`${kind}:${key}`, { kind, clientIp: ctx.clientIp, until });
    this.#nextEnd = Math.min(this.#nextEnd, until);
  }

  /** Publishes `lockout.ended` for each tracked lockout that is over (no timer runs for them). */
  #endLockouts(ctx: Context, now: number): void {
    if (now < this.#nextEnd) return;
    let next = Number.POSITIVE_INFINITY;
    for (const [key, lockout] of this.#lockouts) {
      if (lockout.until > now) {
        next = Math.min(next, lockout.until);
        continue;
      }
      this.#lockouts.delete(key);
      if (!securityEventChannel.hasSubscribers) continue;
      securityEventChannel.publish({
        event: 'lockout.ended',
        time: now,
        request_id: ctx.requestId,
        client_ip: lockout.clientIp,
        key_kind: lockout.kind,
        until: lockout.until,
      } satisfies SecurityEvent);
    }
    this.#nextEnd = next;
  }

  async check(ctx: Context, account: string): Promise<void> {
    const keys = this.#keys(ctx, account);
    const now = this.#clock.now();
    this.#endLockouts(ctx, now);
    // The attempt is counted now, as if it will fail, and forgiven by recordSuccess:
    // a burst of parallel guesses cannot all pass the check before any is recorded.
    const [pair, all] = await Promise.all([
      this.#store.hit(ctx, keys.pair, this.#perIp, 1, now),
      this.#perAccount && this.#store.hit(ctx, keys.account, this.#perAccount, 0, now),
    ]);
    const blocked: HitResult[] = [];
    if (pair !== FAIL_OPEN_RESULT && !pair.allowed) blocked.push(pair);
    if (all && all !== FAIL_OPEN_RESULT && all.remaining <= 0) blocked.push(all);
    if (blocked.length === 0) {
      ctx.set(reservedKey, {
        pair: keys.pair,
        hit: pair === FAIL_OPEN_RESULT ? undefined : pair,
        at: now,
      });
      return;
    }
    if (securityEventChannel.hasSubscribers) {
      securityEventChannel.publish({
        event: 'login.failed',
        time: now,
        request_id: ctx.requestId,
        client_ip: ctx.clientIp,
        user_id: undefined,
        reason: 'locked_out',
      } satisfies SecurityEvent);
    }
    const waitMs = Math.max(...blocked.map((r) => r.resetMs));
    throw new TooManyRequestsError({
      code: 'ERR_LOGIN_BLOCKED',
      detail: 'Too many failed sign-in attempts. Try again later.',
      retryAfter: Math.max(1, Math.ceil(waitMs / 1000)),
    });
  }

  async recordFailure(ctx: Context, account: string): Promise<void> {
    const keys = this.#keys(ctx, account);
    const now = this.#clock.now();
    const reservation = ctx.get(reservedKey);
    const counted = reservation?.pair === keys.pair;
    if (counted) ctx.set(reservedKey, SPENT);
    const [pair, all] = await Promise.all([
      counted ? reservation.hit : this.#store.hit(ctx, keys.pair, this.#perIp, 1, now),
      this.#perAccount && this.#store.hit(ctx, keys.account, this.#perAccount, 1, now),
    ]);
    // The failure that uses the last allowed attempt starts the lockout.
    this.#maybeLocked(ctx, 'account_ip', keys.pair, pair, counted ? reservation.at : now);
    this.#maybeLocked(ctx, 'account', keys.account, all, now);
  }

  async release(ctx: Context, account: string): Promise<void> {
    const keys = this.#keys(ctx, account);
    const reservation = ctx.get(reservedKey);
    if (reservation?.pair !== keys.pair) return;
    ctx.set(reservedKey, SPENT);
    const { hit, at } = reservation;
    if (hit === undefined || !hit.allowed) return;
    await this.#store.refund(
      keys.pair,
      this.#perIp,
      1,
      windowStartOf(hit, this.#perIp, at),
      this.#clock.now(),
    );
  }

  async recordSuccess(ctx: Context, account: string): Promise<void> {
    await this.#store.reset(ctx, this.#keys(ctx, account).pair, this.#perIp, this.#clock.now());
  }
}

/**
 * Creates a login guard: by default 5 failures for one account from one IP within
 * 15 minutes block that pair with 429 + `Retry-After`, even with the right password
 * (OWASP Authentication Cheat Sheet, "Login Throttling").
 *
 * On the `org:security` channel it publishes `lockout.started` (the failure that used
 * the last allowed attempt), `login.failed` with reason `locked_out` (each refused
 * attempt), and `lockout.ended` (from the first call after the end, on the instance
 * that saw the start). The account name is never part of an event.
 *
 * @example
 * ```ts
 * const guard = createLoginGuard({ store: new RedisRateLimitStore({ client }) });
 * await guard.check(ctx, email);
 * if (!(await users.verify(email, password))) { await guard.recordFailure(ctx, email); throw invalidCredentials(); }
 * await guard.recordSuccess(ctx, email);
 * ```
 */
export function createLoginGuard(options: LoginGuardOptions = {}): LoginGuard {
  return new Guard(options);
}
