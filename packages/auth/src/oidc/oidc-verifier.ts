import { type Clock, ConfigurationError, ServiceUnavailableError, systemClock } from '@org/core';
import { checkIssuer, positiveMilliseconds } from '../internal/verifier-options.js';
import { trustedIssuerOf } from '../internal/verify-jwt.js';
import {
  createRemoteJwksVerifier,
  type RemoteJwksVerifierOptions,
} from '../remote-jwks/remote-jwks-verifier.js';
import type { AccessTokenClaims, AccessTokenVerifier } from '../tokens/types.js';
import { applyClaimMapper, type ClaimMapper } from './claim-mapper.js';
import { claimPresets } from './claim-presets.js';
import { discoverJwksUri, discoveryUrlOf } from './discover.js';
import type { OidcDiscoveryError } from './oidc-discovery-error.js';

/** One trusted OpenID Provider. */
export interface OidcIssuer {
  /** Its exact issuer identifier, the `iss` of its tokens, for example `https://tenant.eu.auth0.com/`. */
  issuer: string;
  /**
   * Where its configuration document is, when not at `<issuer>/.well-known/openid-configuration`
   * (Entra ID v1 tokens: `https://login.microsoftonline.com/<tid>/.well-known/openid-configuration`).
   * The document's `issuer` must still equal `issuer`.
   * @default `<issuer>/.well-known/openid-configuration`
   */
  discoveryUrl?: string;
  /** Algorithms accepted from this issuer; asymmetric only. @default ['RS256', 'ES256', 'EdDSA'] */
  algorithms?: readonly string[];
  /** How its claims become the principal's subject, roles and scopes. @default the verifier's `claims` */
  claims?: ClaimMapper;
}

/** Options of {@link createOidcVerifier}; every option of `createRemoteJwksVerifier` but `issuers` applies to each issuer. */
export interface OidcVerifierOptions extends Omit<RemoteJwksVerifierOptions, 'issuers'> {
  /** The issuers whose tokens this service accepts: issuer URLs, or {@link OidcIssuer} entries. */
  issuers: readonly (string | OidcIssuer)[];
  /** How claims become the principal's subject, roles and scopes, for issuers without their own. @default claimPresets.standard() */
  claims?: ClaimMapper;
  /**
   * Allow http discovery and JWKS URLs on a loopback host (`localhost`, `127.0.0.1`,
   * `[::1]`), for tests against a local provider. Anything else must be https.
   * @default false
   */
  allowHttpOnLoopback?: boolean;
  /** Least milliseconds between two discovery attempts of one issuer after a failure. @default 30000 */
  discoveryRetryInterval?: number;
}

/** An {@link AccessTokenVerifier} over discovered issuers. */
export interface OidcVerifier extends AccessTokenVerifier {
  /**
   * Discovers every issuer now; rejects with an {@link OidcDiscoveryError} naming the
   * first that fails. Await it at start-up to fail fast; without it, each issuer is
   * discovered on its first token, and a failure answers that request with a 503.
   */
  ready(): Promise<void>;
}

interface IssuerState {
  readonly issuer: string;
  readonly discoveryUrl: string;
  readonly algorithms: readonly string[] | undefined;
  readonly mapper: ClaimMapper;
  verifier: AccessTokenVerifier | undefined;
  pending: Promise<AccessTokenVerifier> | undefined;
  failedAt: number;
  failure: OidcDiscoveryError | undefined;
}

/**
 * Verifies access tokens of OpenID Providers (Auth0, Keycloak, Entra ID, Okta) found
 * by OpenID Connect Discovery: each issuer's `jwks_uri` is read from its
 * configuration document, whose `issuer` must equal the configured one, and the keys
 * are then handled by {@link createRemoteJwksVerifier} (refresh, unknown-`kid` refetch
 * at most once per `cooldown`, `maxStaleness`, 503 without keys).
 *
 * The token's `iss` is decoded without trust only to pick a configured issuer: an
 * unknown issuer is a 401 and causes no request. Each issuer is discovered once, on
 * `ready()` or its first token; a failed discovery is retried at most once per
 * `discoveryRetryInterval`, and answers 503 `ERR_JWKS_UNAVAILABLE` meanwhile. The
 * verified claims are rewritten by the issuer's {@link ClaimMapper}: `sub`, `roles`
 * and `scope` are the mapped ones, so `createAuth`'s principal, `requireRoles` and
 * `requireScopes` work unchanged.
 *
 * Key rotation: a token signed by a key the provider still publishes verifies; once
 * a refreshed JWKS no longer has the key, its tokens are refused (401) and cached
 * verifications are dropped.
 *
 * @example
 * ```ts
 * const verifier = createOidcVerifier({
 *   issuers: [
 *     { issuer: 'https://acme.eu.auth0.com/', claims: claimPresets.auth0() },
 *     { issuer: 'https://sso.acme.com/realms/staff', claims: claimPresets.keycloak({ clientId: 'orders-api' }) },
 *   ],
 *   audience: 'https://orders.acme.com',
 *   typ: false, // Auth0 and Keycloak send `typ: JWT`
 * });
 * await verifier.ready(); // fail fast at start-up
 * const auth = createAuth({ verifier });
 * ```
 */
export function createOidcVerifier(options: OidcVerifierOptions): OidcVerifier {
  const {
    issuers,
    claims: defaultMapper = claimPresets.standard(),
    allowHttpOnLoopback = false,
    discoveryRetryInterval: retryOption,
    ...remote
  } = options;
  const clock: Clock = remote.clock ?? systemClock;
  const fetchImpl = remote.fetch ?? globalThis.fetch;
  const timeout = remote.timeout ?? 5_000;
  const retryInterval = positiveMilliseconds('discoveryRetryInterval', retryOption ?? 30_000);
  const maxTokenLength = remote.maxTokenLength ?? 8192;
  if (typeof allowHttpOnLoopback !== 'boolean') {
    throw new ConfigurationError('allowHttpOnLoopback must be true or false (the default).');
  }
  if (!Array.isArray(issuers) || issuers.length === 0) {
    throw new ConfigurationError(
      'issuers must list at least one issuer URL (for example "https://acme.eu.auth0.com/") whose tokens this service accepts.',
    );
  }
  const entries = issuers.map(
    (entry): OidcIssuer => (typeof entry === 'string' ? { issuer: entry } : entry),
  );
  // Every shared option and each issuer entry is checked now, by the verifier each
  // issuer gets after discovery; the placeholder URL is never fetched.
  createRemoteJwksVerifier({
    ...remote,
    issuers: entries.map((entry) => ({
      issuer: entry?.issuer,
      jwksUri: 'https://discovery.invalid/jwks',
      ...(entry?.algorithms === undefined ? {} : { algorithms: entry.algorithms }),
    })),
  });

  const byIssuer = new Map<string, IssuerState>();
  for (const [index, entry] of entries.entries()) {
    const option = `issuers[${index}]`;
    const issuer = checkIssuer(option, entry.issuer);
    if (entry.claims !== undefined && typeof entry.claims !== 'function') {
      throw new ConfigurationError(
        `${option}.claims must be a ClaimMapper, such as claimPresets.auth0().`,
      );
    }
    byIssuer.set(issuer, {
      issuer,
      discoveryUrl: discoveryUrlOf(option, issuer, entry.discoveryUrl, allowHttpOnLoopback),
      algorithms: entry.algorithms,
      mapper: entry.claims ?? defaultMapper,
      verifier: undefined,
      pending: undefined,
      failedAt: Number.NEGATIVE_INFINITY,
      failure: undefined,
    });
  }
  if (typeof defaultMapper !== 'function') {
    throw new ConfigurationError('claims must be a ClaimMapper, such as claimPresets.standard().');
  }
  const states = [...byIssuer.values()];
  const mapped = new WeakMap<AccessTokenClaims, AccessTokenClaims>();

  const discover = (state: IssuerState): Promise<AccessTokenVerifier> => {
    if (state.verifier !== undefined) return Promise.resolve(state.verifier);
    if (state.pending !== undefined) return state.pending;
    if (state.failure !== undefined && clock.now() - state.failedAt < retryInterval) {
      return Promise.reject(state.failure);
    }
    state.pending = discoverJwksUri({
      issuer: state.issuer,
      url: state.discoveryUrl,
      timeout,
      fetch: fetchImpl,
      allowHttpOnLoopback,
    }).then(
      (jwksUri) => {
        state.pending = undefined;
        state.failure = undefined;
        state.verifier = createRemoteJwksVerifier({
          ...remote,
          issuers: [
            {
              issuer: state.issuer,
              jwksUri,
              ...(state.algorithms === undefined ? {} : { algorithms: state.algorithms }),
            },
          ],
        });
        return state.verifier;
      },
      (error: OidcDiscoveryError) => {
        state.pending = undefined;
        state.failure = error;
        state.failedAt = clock.now();
        throw error;
      },
    );
    return state.pending;
  };

  const mapClaims = (state: IssuerState, claims: AccessTokenClaims): AccessTokenClaims => {
    let result = mapped.get(claims);
    if (result === undefined) {
      result = applyClaimMapper(state.mapper, claims);
      mapped.set(claims, result);
    }
    return result;
  };

  const cachedClaims = (token: string): AccessTokenClaims | undefined => {
    for (const state of states) {
      const claims = state.verifier?.cachedClaims?.(token);
      if (claims !== undefined) return mapClaims(state, claims);
    }
    return undefined;
  };

  return {
    async verify(token: string): Promise<AccessTokenClaims> {
      const state = trustedIssuerOf(token, maxTokenLength, byIssuer);
      let verifier: AccessTokenVerifier;
      try {
        verifier = await discover(state);
      } catch (cause) {
        throw new ServiceUnavailableError({
          code: 'ERR_JWKS_UNAVAILABLE',
          detail: 'The keys of the token issuer could not be fetched.',
          cause,
        });
      }
      return mapClaims(state, await verifier.verify(token));
    },
    cachedClaims,
    async ready(): Promise<void> {
      await Promise.all(states.map(discover));
    },
  };
}
