import type { KeyObject } from 'node:crypto';
import { type Clock, ConfigurationError, systemClock } from '@org/core';
import { keyMaterial } from '../internal/key-material.js';
import { VerifiedTokenCache } from '../internal/verified-token-cache.js';
import { checkAudience, checkIssuer } from '../internal/verifier-options.js';
import {
  checkLimits,
  invalidToken,
  type JwsHeader,
  type JwtRules,
  verifyJwt,
} from '../internal/verify-jwt.js';
import type { KeySet } from '../keys/key-set.js';
import type { AccessTokenClaims, AccessTokenVerifier } from './types.js';

/** Options of the verified-token cache of a verifier. */
export interface VerifiedTokenCacheOptions {
  /** Most tokens kept; the least recently used go first. @default 10000 */
  maxEntries?: number;
  /**
   * Milliseconds after which a token not presented again is dropped, even below
   * `maxEntries`, so memory follows the tokens in use (an access token replaced by its
   * refresh is not kept until the bound pushes it out). Presented later, it is
   * verified again once.
   * @default 60000
   */
  maxIdleMs?: number;
}

/** Options of {@link createAccessTokenVerifier}. */
export interface AccessTokenVerifierOptions {
  /** The keys that verify. Only a `kid` found here is used, with that key's algorithm. */
  keySet: KeySet;
  /** The expected `iss` (RFC 9068 4: must match exactly). */
  issuer: string;
  /** The expected audience: the token's `aud` must contain this value, or one of these values. */
  audience: string | readonly string[];
  /** Seconds of leeway for `exp`, `nbf` and `iat` between clocks. @default 30 */
  clockTolerance?: number;
  /** Longest accepted token in characters; longer ones are rejected before parsing. @default 8192 */
  maxTokenLength?: number;
  /**
   * Cache of verified tokens, keyed by the exact token string. Only successes are
   * kept, never served at or past `exp`, and emptied when a key is retired or
   * removed. `false` turns it off.
   * @default { maxEntries: 10000 }
   */
  cache?: false | VerifiedTokenCacheOptions;
  /** Source of the current time. @default systemClock */
  clock?: Clock;
}

/** An {@link AccessTokenVerifier} with a handle on its cache. */
export interface LocalAccessTokenVerifier extends AccessTokenVerifier {
  /** Tokens in the verified-token cache (0 when it is off). */
  readonly cacheSize: number;
  /** Empties the verified-token cache. */
  clearCache(): void;
}

/**
 * Creates the verifier of this service's own access tokens (RFC 9068, RFC 8725):
 * - the algorithm allow-list comes from the key set, never from the token (8725 3.1);
 *   `alg` must equal the algorithm of the key its `kid` names, case-sensitively,
 *   so `none`, HS256-with-our-public-key and relabelled algorithms all fail;
 * - `jku`, `jwk`, `x5u`, `x5c` are refused, never followed; `crit` is refused;
 * - `typ` must be `at+jwt` (RFC 9068 2.1, 4), so ID tokens and other JWTs fail;
 * - a token without a `kid`, or with one not in the set, is refused;
 * - `iss`, `aud`, `exp`, `iat`, `sub`, `jti` are required; `nbf`/`iat` allow `clockTolerance`.
 *
 * Rejections are {@link TokenError}s: `ERR_TOKEN_EXPIRED` for an authentic but
 * expired token, `ERR_TOKEN_INVALID` for everything else.
 *
 * @example
 * ```ts
 * const verifier = createAccessTokenVerifier({ keySet, issuer: 'https://api.example.com', audience: 'api' });
 * const claims = await verifier.verify(token); // claims.sub, claims.roles
 * ```
 */
export function createAccessTokenVerifier(
  options: AccessTokenVerifierOptions,
): LocalAccessTokenVerifier {
  const { keySet } = options;
  const clock = options.clock ?? systemClock;
  if (typeof keySet?.get !== 'function') {
    throw new ConfigurationError('keySet must be a key set made with createKeySet().');
  }
  const rules: JwtRules = {
    issuer: checkIssuer('issuer', options.issuer),
    audience: checkAudience(options.audience),
    typ: 'at+jwt',
    clockTolerance: options.clockTolerance ?? 30,
    maxTokenLength: options.maxTokenLength ?? 8192,
  };
  checkLimits(rules.clockTolerance, rules.maxTokenLength);
  const cache = options.cache === false ? undefined : new VerifiedTokenCache(options.cache ?? {});

  let algorithms = keySet.algorithms;
  let generation = 0;
  keySet.onChange((change) => {
    algorithms = keySet.algorithms;
    generation++;
    // Retiring or removing a key invalidates what was verified under the old set.
    if (change.type !== 'added') cache?.clear();
  });

  const resolveKey = (header: JwsHeader): KeyObject => {
    const { kid } = header;
    // The kid is only a Map key: never a path, a query or a URL.
    const key = typeof kid === 'string' ? keySet.get(kid) : undefined;
    if (key === undefined) throw invalidToken('unknown "kid"');
    if (header.alg !== key.alg) throw invalidToken('"alg" does not match the key');
    return keyMaterial(key).verifyKey;
  };

  const verifyUncached = async (token: string, now: number): Promise<AccessTokenClaims> => {
    const started = generation;
    const claims = await verifyJwt(token, resolveKey, algorithms, rules, now);
    // A key changed while this ran: the result may rest on a key that is gone.
    if (started === generation) cache?.set(token, claims, now);
    return claims;
  };

  return {
    verify(token: string): Promise<AccessTokenClaims> {
      const now = clock.now();
      const hit = cache?.get(token, now);
      return hit === undefined ? verifyUncached(token, now) : Promise.resolve(hit);
    },
    cachedClaims: (token: string) => cache?.get(token, clock.now()),
    get cacheSize() {
      return cache?.size ?? 0;
    },
    clearCache: () => cache?.clear(),
  };
}
