/**
 * The keys of one remote issuer, fetched from its JWKS URL: kept for `cacheMaxAge`,
 * refetched at most once per `cooldown` when a token names an unknown `kid`, each
 * fetch bounded by `timeout` and a size cap, concurrent fetches share one request. While
 * refreshes fail the last keys stay in use, for at most `maxStaleness` after the
 * last successful fetch.
 *
 * Written here rather than with jose's `createRemoteJWKSet` so every time read goes
 * through the toolkit's Clock (tests drive it without sleeping) and so the owner
 * learns when a key disappears (to empty its verified-token cache).
 */

import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { Clock } from '@org/core';
import { privateMembersOf, purposeProblem } from './jwk-rules.js';

/** Public members by key type: nothing else of a fetched JWK is kept. */
const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  RSA: ['kty', 'n', 'e'],
  EC: ['kty', 'crv', 'x', 'y'],
  OKP: ['kty', 'crv', 'x'],
};

const MAX_JWKS_BYTES = 512 * 1024;

interface RemoteKey {
  /** The public members, as published: compared to notice a replaced key. */
  readonly jwk: string;
  readonly alg: string | undefined;
  readonly key: KeyObject;
}

export interface RemoteKeyStoreOptions {
  readonly url: string;
  readonly cacheMaxAge: number;
  readonly cooldown: number;
  readonly timeout: number;
  /** Longest time (ms) since the last successful fetch that its keys may still verify. */
  readonly maxStaleness: number;
  readonly clock: Clock;
  readonly fetch: typeof globalThis.fetch;
  /**
   * Called after a refresh that changed known keys, with the `kid`s that appeared and
   * those dropped (a replaced key is in both). Not called for the first fetch.
   */
  readonly onKeysChanged: (added: readonly string[], removed: readonly string[]) => void;
}

type JwkEntry = Readonly<Record<string, unknown>> & { readonly kid: string };

/**
 * Keeps the public signing keys of a JWKS, keyed by kid. Entries without a kid, and
 * malformed or refused ones (unusable, like missing ones), are skipped.
 */
function parseJwks(document: unknown): Map<string, RemoteKey> {
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error('the JWKS has no "keys" array');
  const entries = keys.filter(
    (raw): raw is JwkEntry =>
      typeof raw === 'object' && raw !== null && typeof (raw as JwkEntry).kid === 'string',
  );
  // RFC 7517 4.5: a kid names one key; with two entries we cannot know which one signs, so neither does.
  const seen = new Set<string>();
  const duplicated = new Set<string>();
  for (const raw of entries) (seen.has(raw.kid) ? duplicated : seen).add(raw.kid);
  const byKid = new Map<string, RemoteKey>();
  for (const raw of entries) {
    if (duplicated.has(raw.kid) || purposeProblem(raw, 'verify') !== undefined) continue;
    // RFC 7517 9.2: a published private member (or an oct `k`) means anyone may sign with the key.
    if (privateMembersOf(raw).length > 0) continue;
    const members = PUBLIC_MEMBERS[String(raw.kty)];
    if (members === undefined) continue;
    const jwk: Record<string, unknown> = {};
    for (const member of members) if (raw[member] !== undefined) jwk[member] = raw[member];
    let key: KeyObject;
    try {
      key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    } catch {
      continue;
    }
    const alg = typeof raw.alg === 'string' ? raw.alg : undefined;
    byKid.set(raw.kid, { jwk: JSON.stringify(jwk), alg, key });
  }
  return byKid;
}

async function readCapped(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_JWKS_BYTES) {
      await reader.cancel();
      throw new Error(`the JWKS is larger than ${MAX_JWKS_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export class RemoteKeyStore {
  readonly #options: RemoteKeyStoreOptions;
  #keys: Map<string, RemoteKey> | undefined;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #attemptedAt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | undefined;
  #lastError: unknown = new Error('the JWKS was not fetched yet');

  constructor(options: RemoteKeyStoreOptions) {
    this.#options = options;
  }

  /** Until when (ms) the keys fetched last may be used without asking the issuer again. */
  get freshUntil(): number {
    return this.#fetchedAt + this.#options.cacheMaxAge;
  }

  /**
   * The key for `kid` and `alg`, or undefined when the issuer does not publish one.
   * Throws when the JWKS has never been fetched successfully: nothing can be verified.
   */
  async get(kid: string, alg: string): Promise<KeyObject | undefined> {
    const now = this.#options.clock.now();
    if (this.#keys === undefined || now - this.#fetchedAt >= this.#options.cacheMaxAge) {
      await this.#refreshIfAllowed(now);
    }
    if (this.#keys === undefined) throw this.#lastError;
    // Failed refreshes keep the last keys, but not forever: the issuer may have revoked one since.
    if (now - this.#fetchedAt > this.#options.maxStaleness) {
      throw new Error(`the JWKS was last fetched ${now - this.#fetchedAt} ms ago`, {
        cause: this.#lastError,
      });
    }
    let key = this.#keys?.get(kid);
    // An unknown kid may be a key the issuer just rotated in: refetch, but at most once per cooldown.
    if (key === undefined && (await this.#refreshIfAllowed(now))) key = this.#keys?.get(kid);
    // RFC 8725 3.1: a key published with an `alg` is used with that algorithm only.
    if (key === undefined || (key.alg !== undefined && key.alg !== alg)) return undefined;
    return key.key;
  }

  /** Refreshes unless one ran within the cooldown; true when this call refreshed or joined a refresh. */
  async #refreshIfAllowed(now: number): Promise<boolean> {
    if (this.#inflight === undefined) {
      if (now - this.#attemptedAt < this.#options.cooldown) return false;
      this.#attemptedAt = now;
      this.#inflight = this.#refresh().finally(() => {
        this.#inflight = undefined;
      });
    }
    try {
      await this.#inflight;
    } catch (error) {
      // A failed refresh keeps the keys already known; the cooldown spaces out retries.
      this.#lastError = error;
    }
    return true;
  }

  async #refresh(): Promise<void> {
    const { url, timeout, fetch } = this.#options;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeout);
    try {
      const response = await fetch(url, {
        signal: controller.signal,
        redirect: 'error',
        headers: { accept: 'application/jwk-set+json, application/json' },
      });
      if (response.status !== 200) throw new Error(`the JWKS answered ${response.status}`);
      const fresh = parseJwks(JSON.parse(await readCapped(response)));
      const known = this.#keys;
      this.#keys = fresh;
      this.#fetchedAt = this.#options.clock.now();
      if (known === undefined) return;
      const removed: string[] = [];
      for (const [kid, was] of known) {
        const key = fresh.get(kid);
        if (key === undefined || key.alg !== was.alg || key.jwk !== was.jwk) removed.push(kid);
      }
      const added = [...fresh.keys()].filter((kid) => !known.has(kid) || removed.includes(kid));
      if (added.length > 0 || removed.length > 0) this.#options.onKeysChanged(added, removed);
    } finally {
      clearTimeout(timer);
    }
  }
}
