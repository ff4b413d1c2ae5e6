import type { KeyObject } from 'node:crypto';
import {
  type Clock,
  ConfigurationError,
  type SecurityEvent,
  ServiceUnavailableError,
  securityEventChannel,
  systemClock,
} from '@org/core';
import { RemoteKeyStore } from '../internal/remote-key-store.js';
import { VerifiedTokenCache } from '../internal/verified-token-cache.js';
import {
  checkAudience,
  checkIssuer,
  checkJwksUri,
  positiveMilliseconds,
} from '../internal/verifier-options.js';
import {
  ASYMMETRIC_ALGORITHMS,
  checkLimits,
  invalidToken,
  type JwsHeader,
  type JwtRules,
  normalizeTyp,
  trustedIssuerOf,
  verifyJwt,
} from '../internal/verify-jwt.js';
import type { AccessTokenClaims, AccessTokenVerifier } from '../tokens/types.js';
import type { VerifiedTokenCacheOptions } from '../tokens/verify-access-token.js';

/** One trusted issuer and where its keys are published. */
export interface RemoteIssuer {
  /** The exact `iss` of its tokens, for example `https://tenant.eu.auth0.com/`. */
  issuer: string;
  /** Its JWKS URL. https, except on a loopback host. Never taken from a token. */
  jwksUri: string;
  /** Algorithms accepted from this issuer; asymmetric only. @default ['RS256', 'ES256', 'EdDSA'] */
  algorithms?: readonly string[];
}

/** Options of {@link createRemoteJwksVerifier}. */
export interface RemoteJwksVerifierOptions {
  /** The issuer allow-list. A token from any other `iss` is rejected before any key is fetched. */
  issuers: readonly RemoteIssuer[];
  /** The audience this service accepts: the token's `aud` must contain it, or one of these. */
  audience: string | readonly string[];
  /**
   * Required `typ` header (RFC 9068 2.1). `false` skips the check for issuers that
   * send `JWT`; the audience check then keeps ID tokens (whose `aud` is a client) out.
   * @default 'at+jwt'
   */
  typ?: string | false;
  /** Milliseconds a fetched JWKS is used before it is fetched again. @default 600000 (10 minutes) */
  cacheMaxAge?: number;
  /** Least milliseconds between two fetches of one JWKS, also when a token names an unknown `kid`. @default 30000 */
  cooldown?: number;
  /** Milliseconds a JWKS request may take. @default 5000 */
  timeout?: number;
  /**
   * Milliseconds after the last successful JWKS fetch during which its keys still
   * verify while refreshes fail. Past it, `verify` rejects with a 503
   * `ERR_JWKS_UNAVAILABLE` rather than trust keys the issuer may have revoked. At
   * least `cacheMaxAge`.
   * @default 86400000 (24 hours), or `cacheMaxAge` when that is longer
   */
  maxStaleness?: number;
  /** Seconds of leeway for `exp`, `nbf` and `iat`. @default 30 */
  clockTolerance?: number;
  /** Longest accepted token in characters, rejected before parsing. @default 8192 */
  maxTokenLength?: number;
  /** Verified-token cache; emptied when a fetched JWKS drops or replaces a key. `false` turns it off. @default { maxEntries: 10000 } */
  cache?: false | VerifiedTokenCacheOptions;
  /** Source of the current time. @default systemClock */
  clock?: Clock;
  /** The fetch used for JWKS requests. @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
}

const DAY = 24 * 60 * 60 * 1000;

/**
 * Verifies access tokens issued by other services (Auth0, Keycloak, another
 * instance of this toolkit) with keys from their JWKS. The issuer is read from the
 * token only to pick an entry of the allow-list; the JWKS URL always comes from
 * configuration. Every other rule is the one of {@link createAccessTokenVerifier}.
 *
 * If a JWKS has never been fetched successfully, or not within `maxStaleness`,
 * `verify` rejects with a 503 `ServiceUnavailableError` (`ERR_JWKS_UNAVAILABLE`):
 * fail closed, and not the client's fault. Options are checked here: a missing
 * `audience`, an empty `issuer` or a bad `jwksUri` throws a `ConfigurationError`.
 *
 * @example
 * ```ts
 * const verifier = createRemoteJwksVerifier({
 *   issuers: [{ issuer: 'https://id.example.com/', jwksUri: 'https://id.example.com/.well-known/jwks.json' }],
 *   audience: 'https://api.example.com',
 * });
 * ```
 */
export function createRemoteJwksVerifier(options: RemoteJwksVerifierOptions): AccessTokenVerifier {
  const clock = options.clock ?? systemClock;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const cacheMaxAge = positiveMilliseconds('cacheMaxAge', options.cacheMaxAge ?? 600_000);
  const cooldown = positiveMilliseconds('cooldown', options.cooldown ?? 30_000);
  const timeout = positiveMilliseconds('timeout', options.timeout ?? 5_000);
  const maxStaleness = positiveMilliseconds(
    'maxStaleness',
    options.maxStaleness ?? Math.max(DAY, cacheMaxAge),
  );
  if (maxStaleness < cacheMaxAge) {
    throw new ConfigurationError(
      `maxStaleness (${maxStaleness} ms) must be at least cacheMaxAge (${cacheMaxAge} ms): keys are refreshed after cacheMaxAge, and trusted without a refresh for at most maxStaleness.`,
    );
  }
  const audience = checkAudience(options.audience);
  const typ = options.typ ?? 'at+jwt';
  if (typ !== false && (typeof typ !== 'string' || typ === '')) {
    throw new ConfigurationError(
      `typ must be a media type such as 'at+jwt', or false to skip the check; received ${String(typ)}.`,
    );
  }
  const cache = options.cache === false ? undefined : new VerifiedTokenCache(options.cache ?? {});
  const clockTolerance = options.clockTolerance ?? 30;
  const maxTokenLength = options.maxTokenLength ?? 8192;
  checkLimits(clockTolerance, maxTokenLength);
  if (!Array.isArray(options.issuers) || options.issuers.length === 0) {
    throw new ConfigurationError(
      'issuers must list at least one { issuer, jwksUri } whose tokens this service accepts.',
    );
  }

  let generation = 0;
  const byIssuer = new Map<
    string,
    { rules: JwtRules; algorithms: readonly string[]; store: RemoteKeyStore }
  >();
  for (const [index, entry] of options.issuers.entries()) {
    const issuer = checkIssuer(`issuers[${index}].issuer`, entry?.issuer);
    if (byIssuer.has(issuer)) {
      throw new ConfigurationError(
        `issuers[${index}].issuer ${issuer} is listed twice; give each issuer one entry.`,
      );
    }
    const url = checkJwksUri(`issuers[${index}].jwksUri`, entry.jwksUri);
    const algorithms = entry.algorithms ?? ['RS256', 'ES256', 'EdDSA'];
    if (!Array.isArray(algorithms) || algorithms.length === 0) {
      throw new ConfigurationError(
        `issuers[${index}].algorithms must list at least one algorithm, or be left out for RS256, ES256 and EdDSA.`,
      );
    }
    for (const alg of algorithms) {
      if (!ASYMMETRIC_ALGORITHMS.includes(alg)) {
        throw new ConfigurationError(
          `issuers[${index}].algorithms has ${alg}; accepted are ${ASYMMETRIC_ALGORITHMS.join(', ')} (never HS*, none).`,
        );
      }
    }
    const store = new RemoteKeyStore({
      url,
      cacheMaxAge,
      cooldown,
      timeout,
      maxStaleness,
      clock,
      fetch: fetchImpl,
      onKeysChanged: (added, removed) => {
        if (removed.length > 0) {
          // Results may rest on a dropped key: forget them, and those verifying now.
          generation++;
          cache?.clear();
        }
        if (securityEventChannel.hasSubscribers) {
          securityEventChannel.publish({
            event: 'keys.rotated',
            time: clock.now(),
            source: 'jwks',
            jwks_uri: url,
            added_kids: added,
            retired_kids: removed,
          } satisfies SecurityEvent);
        }
      },
    });
    const rules: JwtRules = {
      issuer,
      audience,
      typ: typ === false ? undefined : normalizeTyp(typ),
      clockTolerance,
      maxTokenLength,
    };
    byIssuer.set(issuer, { rules, algorithms: Object.freeze([...algorithms]), store });
  }

  const verifyUncached = async (token: string, now: number): Promise<AccessTokenClaims> => {
    const trusted = trustedIssuerOf(token, maxTokenLength, byIssuer);
    const resolveKey = async (header: JwsHeader): Promise<KeyObject> => {
      if (typeof header.kid !== 'string') throw invalidToken('no "kid"');
      let key: KeyObject | undefined;
      try {
        key = await trusted.store.get(header.kid, header.alg);
      } catch (cause) {
        throw new ServiceUnavailableError({
          code: 'ERR_JWKS_UNAVAILABLE',
          detail: 'The keys of the token issuer could not be fetched.',
          cause,
        });
      }
      if (key === undefined) throw invalidToken('unknown "kid" or "alg" for the key');
      return key;
    };
    const started = generation;
    const claims = await verifyJwt(token, resolveKey, trusted.algorithms, trusted.rules, now);
    // Not cached when a key was dropped meanwhile (the result may rest on it), and never
    // longer than the JWKS it was checked against, so a key the issuer drops is noticed.
    if (started === generation) cache?.set(token, claims, now, trusted.store.freshUntil);
    return claims;
  };

  return {
    verify(token: string): Promise<AccessTokenClaims> {
      const now = clock.now();
      const hit = cache?.get(token, now);
      return hit === undefined ? verifyUncached(token, now) : Promise.resolve(hit);
    },
    cachedClaims: (token: string) => cache?.get(token, clock.now()),
  };
}
