/**
 * The verified-token cache in front of signature verification. A hit needs the exact
 * token string, so a token that differs in one byte is a miss and is verified in
 * full. Only successful verifications are stored, and an entry is never served at
 * or past the token's `exp`.
 *
 * Entries are keyed by the token's signature (a `Map` hashes a new string in full, and
 * the signature is a tenth of the token) and then compared whole. Two tokens with one
 * signature and different contents cannot both verify.
 *
 * Eviction is the CLOCK approximation of LRU: a hit only sets a flag and a time, so
 * the hit path is one `Map.get`, one comparison and two property writes; eviction
 * gives recently used entries a second chance by moving them to the back.
 *
 * Below the bound, each insertion moves the same hand over two more entries and drops
 * those not presented for `maxIdleMs` (or expired): a token replaced by its refresh is
 * gone within a pass, so memory follows the tokens in use, not the largest burst.
 */
import { ConfigurationError } from '@org/core';
import { positiveInteger } from '@org/core/adapter';
import type { AccessTokenClaims } from '../tokens/types.js';
import type { VerifiedTokenCacheOptions } from '../tokens/verify-access-token.js';

interface Entry {
  readonly token: string;
  readonly claims: AccessTokenClaims;
  /** `exp` in milliseconds, or earlier when the keys behind it must be checked again. */
  readonly expiresAt: number;
  /** Presented since the hand last gave it a second chance. */
  used: boolean;
  /** When it was last stored or presented (ms). */
  usedAt: number;
}

/** Entries the hand looks at per insertion below the bound. */
const SWEEP_STEP = 2;

export class VerifiedTokenCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #maxIdleMs: number;
  /**
   * The clock hand, kept between evictions: a fresh iterator would walk every hole a
   * `Map` keeps for deleted entries; a live one resumes where it stopped.
   */
  #hand: MapIterator<[string, Entry]> | undefined;

  constructor(options: VerifiedTokenCacheOptions) {
    const maxEntries = options.maxEntries ?? 10_000;
    if (!Number.isInteger(maxEntries) || maxEntries <= 0) {
      throw new ConfigurationError(
        `cache.maxEntries must be a positive integer; received ${String(maxEntries)}. Pass cache: false to turn the cache off.`,
      );
    }
    this.#maxEntries = maxEntries;
    this.#maxIdleMs = positiveInteger(
      'verified-token cache',
      'cache.maxIdleMs',
      options.maxIdleMs,
      60_000,
    );
  }

  /** Number of cached tokens. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The claims of a token verified before, when it is still before its `exp` at `now` (ms).
   * Anything that is not a verified token string (a number or object passed at run time
   * included) is a miss: only verified strings are ever keys.
   */
  get(token: string, now: number): AccessTokenClaims | undefined {
    if (typeof token !== 'string') return undefined;
    const key = signatureOf(token);
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.token !== token) return undefined;
    if (now >= entry.expiresAt) {
      this.#entries.delete(key);
      return undefined;
    }
    entry.used = true;
    entry.usedAt = now;
    return entry.claims;
  }

  /**
   * Stores a successful verification made at `now` (ms), to be served until `exp`
   * or `notAfter` (ms), whichever is first; a token already past either is not stored.
   */
  set(
    token: string,
    claims: AccessTokenClaims,
    now: number,
    notAfter = Number.POSITIVE_INFINITY,
  ): void {
    const expiresAt = Math.min(claims.exp * 1000, notAfter);
    // Accepted inside the clock tolerance, but never served from the cache past `exp`.
    if (now >= expiresAt) return;
    const entries = this.#entries;
    const key = signatureOf(token);
    if (!entries.has(key)) {
      if (entries.size >= this.#maxEntries) this.#evict();
      else this.#sweep(now);
    }
    entries.set(key, { token, claims, expiresAt, used: false, usedAt: now });
  }

  /** Forgets every token: called whenever a key stops signing or verifying. */
  clear(): void {
    this.#entries.clear();
    this.#hand = undefined;
  }

  #evict(): void {
    const entries = this.#entries;
    // Each pass clears at most `size` flags, so the loop ends within two passes.
    for (let next = this.#next(); next !== undefined; next = this.#next()) {
      const [key, entry] = next;
      entries.delete(key);
      if (!entry.used) return;
      entry.used = false;
      entries.set(key, entry);
    }
  }

  /** Drops the next entries at the hand that sat idle for `maxIdleMs` or expired; skips the others. */
  #sweep(now: number): void {
    const entries = this.#entries;
    // Never the same entry twice in one sweep of a small map.
    const steps = Math.min(SWEEP_STEP, entries.size);
    for (let step = 0; step < steps; step++) {
      const next = this.#next();
      if (next === undefined) return;
      const [key, entry] = next;
      if (now - entry.usedAt >= this.#maxIdleMs || now >= entry.expiresAt) entries.delete(key);
    }
  }

  /** The oldest entry, from the hand; a new hand once the old one ran out (an emptied map). */
  #next(): [string, Entry] | undefined {
    let step = this.#hand?.next();
    if (step === undefined || step.done === true) {
      this.#hand = this.#entries.entries();
      step = this.#hand.next();
    }
    return step.done === true ? undefined : step.value;
  }
}

/** A JWS compact token's signature segment (RFC 7515 section 7.1): what follows the last dot. */
function signatureOf(token: string): string {
  return token.slice(token.lastIndexOf('.') + 1);
}
