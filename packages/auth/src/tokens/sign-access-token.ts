import { randomUUID } from 'node:crypto';
import { type Clock, ConfigurationError, systemClock } from '@org/core';
import { positiveInteger } from '@org/core/adapter';
import type { JWTPayload } from 'jose';
import { SignJWT } from 'jose/jwt/sign';
import { keyMaterial } from '../internal/key-material.js';
import type { KeySet } from '../keys/key-set.js';
import type { AccessTokenClaims } from './types.js';

/** Options of {@link createAccessTokenSigner}. */
export interface AccessTokenSignerOptions {
  /** The keys; the set's current signing key signs each token, so rotation takes effect at once. */
  keySet: KeySet;
  /** `iss` of every token: this service's URL or name. */
  issuer: string;
  /** `aud` of every token unless a call overrides it: the resource server(s) the token is for. */
  audience: string | readonly string[];
  /** Lifetime in seconds (`exp - iat`). @default 900 (15 minutes) */
  expiresIn?: number;
  /** `client_id` (RFC 9068 2.2) of every token, when there is one client. @default not sent */
  clientId?: string;
  /** Source of the current time for `iat` and `exp`. @default systemClock */
  clock?: Clock;
}

/** What goes into one token. */
export interface AccessTokenInput {
  /** `sub`: the user id. */
  subject: string;
  /** `roles` claim. @default not sent */
  roles?: readonly string[];
  /** OAuth2 scopes: `scope`, space-separated (RFC 9068 2.2.3). @default not sent */
  scope?: string | readonly string[];
  /** Other claims. Registered and toolkit claims (`iss`, `exp`, `roles`...) always win over these. */
  claims?: Readonly<Record<string, unknown>>;
  /** `aud` for this token only. @default the signer's audience */
  audience?: string | readonly string[];
  /** Lifetime in seconds for this token only. @default the signer's expiresIn */
  expiresIn?: number;
}

/** A signed token and what a login response needs to say about it. */
export interface SignedAccessToken {
  /** The compact JWS. */
  readonly token: string;
  /** Seconds until it expires: the `expires_in` of an OAuth2 token response. */
  readonly expiresIn: number;
  /** The claims inside it. */
  readonly claims: AccessTokenClaims;
}

/** Signs access tokens. */
export interface AccessTokenSigner {
  /** Signs one access token with the key set's current signing key. */
  sign(input: AccessTokenInput): Promise<SignedAccessToken>;
}

/** A lifetime in whole seconds. */
function positiveSeconds(name: string, value: number): number {
  return positiveInteger('createAccessTokenSigner', name, value, value);
}

/**
 * Creates the signer of access tokens in the RFC 9068 profile: header
 * `{ alg, kid, typ: "at+jwt" }`; claims `iss`, `aud`, `sub`, `iat`, `exp`, `jti`,
 * and `roles` / `scope` when given.
 *
 * @example
 * ```ts
 * const signer = createAccessTokenSigner({ keySet, issuer: 'https://api.example.com', audience: 'api' });
 * const { token, expiresIn } = await signer.sign({ subject: user.id, roles: user.roles });
 * ```
 */
export function createAccessTokenSigner(options: AccessTokenSignerOptions): AccessTokenSigner {
  const { keySet, issuer, audience, clientId } = options;
  const clock = options.clock ?? systemClock;
  const defaultLifetime = positiveSeconds('expiresIn', options.expiresIn ?? 900);
  if (typeof issuer !== 'string' || issuer === '') {
    throw new ConfigurationError('issuer must be a non-empty string, for example your API URL.');
  }
  if (audience === '' || (Array.isArray(audience) && audience.length === 0)) {
    throw new ConfigurationError('audience must name at least one audience.');
  }
  if (keySet.signingKey === undefined) {
    throw new ConfigurationError(
      'keySet has no signingKey; pass one to createKeySet to sign tokens.',
    );
  }

  return {
    async sign(input: AccessTokenInput): Promise<SignedAccessToken> {
      if (typeof input.subject !== 'string' || input.subject === '') {
        throw new TypeError('subject must be a non-empty string.');
      }
      const key = keySet.signingKey;
      if (key === undefined) throw new ConfigurationError('keySet has no signingKey.');
      const expiresIn =
        input.expiresIn === undefined
          ? defaultLifetime
          : positiveSeconds('expiresIn', input.expiresIn);
      const iat = Math.floor(clock.now() / 1000);
      const scope = typeof input.scope === 'string' ? input.scope : input.scope?.join(' ');
      const claims: AccessTokenClaims = {
        ...input.claims,
        iss: issuer,
        sub: input.subject,
        aud: input.audience ?? audience,
        iat,
        exp: iat + expiresIn,
        jti: randomUUID(),
        ...(clientId === undefined ? {} : { client_id: clientId }),
        ...(input.roles === undefined ? {} : { roles: [...input.roles] }),
        ...(scope === undefined ? {} : { scope }),
      };
      const signKey = keyMaterial(key).signKey as CryptoKey;
      const token = await new SignJWT(claims as JWTPayload)
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
        .sign(signKey);
      return { token, expiresIn, claims };
    },
  };
}
