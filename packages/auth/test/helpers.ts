import type { Clock } from '@org/core';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import {
  type AccessTokenClaims,
  type AccessTokenVerifier,
  TokenError,
} from '../src/tokens/types.js';

/** A clock the test moves by hand. */
export interface ManualClock extends Clock {
  advance(ms: number): void;
}

export function manualClock(start = Date.UTC(2030, 0, 1)): ManualClock {
  let now = start;
  return {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
  };
}

export const DAY = 24 * 60 * 60 * 1000;

/**
 * A stand-in for the real verifier: known token strings map to claims or to a
 * TokenError; anything else is invalid.
 */
export function fakeVerifier(
  tokens: Readonly<Record<string, Partial<AccessTokenClaims> | TokenError>>,
): AccessTokenVerifier & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async verify(token) {
      calls.push(token);
      const entry = tokens[token];
      if (entry === undefined)
        throw new TokenError('ERR_TOKEN_INVALID', 'The access token is invalid.');
      if (entry instanceof TokenError) throw entry;
      return {
        iss: 'https://issuer.test',
        aud: 'api',
        sub: 'nobody',
        exp: 4_000_000_000,
        iat: 1_900_000_000,
        jti: `jti-${token}`,
        ...entry,
      } as AccessTokenClaims;
    },
  };
}

/** An issuer's signing key, its public JWK and (as a careless issuer might publish it) its private JWK. */
export interface IssuerKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
  readonly privateJwk: JWK;
}

/** A fresh issuer key for `alg` (RSA of `modulusLength` bits when given), published with `use: 'sig'`. */
export async function issuerKey(
  kid: string,
  alg = 'ES256',
  modulusLength?: number,
): Promise<IssuerKey> {
  const options =
    modulusLength === undefined ? { extractable: true } : { extractable: true, modulusLength };
  const { privateKey, publicKey } = await generateKeyPair(alg, options);
  return {
    kid,
    alg,
    privateKey,
    jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' },
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' },
  };
}
