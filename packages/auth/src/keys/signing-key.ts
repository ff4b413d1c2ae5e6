import { createSecretKey, generateKeyPair, type KeyObject, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { ConfigurationError } from '@org/core';
import { createSigningKey, SIGNING_ALGORITHMS } from '../internal/key-material.js';

/**
 * The algorithms a key set signs with. Each key has exactly one; a token is only
 * verified with the algorithm of the key its `kid` names (RFC 8725 3.1).
 */
export type SigningAlgorithm = 'ES256' | 'EdDSA' | 'RS256' | 'HS256';

/** The public members of an asymmetric key, as published in a JWKS (RFC 7517 4, RFC 7518 6). */
export interface PublicJwk {
  /** Key type. */
  readonly kty: 'EC' | 'OKP' | 'RSA';
  /** Key id. */
  readonly kid: string;
  /** The one algorithm this key is used with. */
  readonly alg: SigningAlgorithm;
  /** Always `sig`: these keys only sign. */
  readonly use: 'sig';
  /** Curve (`P-256`, `Ed25519`). */
  readonly crv?: string;
  /** EC or OKP public coordinate. */
  readonly x?: string;
  /** EC public coordinate. */
  readonly y?: string;
  /** RSA modulus. */
  readonly n?: string;
  /** RSA exponent. */
  readonly e?: string;
}

/**
 * A key of a {@link KeySet}. The private key or secret lives in key objects
 * that are not reachable from this object: logging or serializing it shows only
 * the members below.
 */
export interface SigningKey {
  /** Key id, sent in the token header. @default the RFC 7638 JWK thumbprint */
  readonly kid: string;
  /** The one algorithm this key is used with. */
  readonly alg: SigningAlgorithm;
  /** Whether the key holds a private key or secret and so can sign. */
  readonly canSign: boolean;
  /** The public JWK; undefined for HS256, whose secret is never published. */
  readonly publicJwk: PublicJwk | undefined;
}

/** Options of {@link generateSigningKey}. */
export interface GenerateSigningKeyOptions {
  /** Key id. @default the RFC 7638 JWK thumbprint of the public key */
  kid?: string;
  /** RSA modulus length in bits (RS256 only). @default 2048 */
  modulusLength?: number;
}

const generatePair = promisify(generateKeyPair);

async function generatePairFor(
  alg: Exclude<SigningAlgorithm, 'HS256'>,
  modulusLength: number,
): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  switch (alg) {
    case 'ES256':
      return generatePair('ec', { namedCurve: 'P-256' });
    case 'EdDSA':
      return generatePair('ed25519');
    case 'RS256':
      return generatePair('rsa', { modulusLength });
  }
}

/**
 * Generates a fresh key. A generated key suits one instance only: every instance
 * must verify every other's tokens, so a service running several instances
 * imports one shared key with {@link importSigningKey} instead.
 *
 * @param alg the algorithm. @default 'ES256'
 * @example
 * ```ts
 * const keySet = createKeySet({ signingKey: await generateSigningKey('EdDSA') });
 * ```
 */
export async function generateSigningKey(
  alg: SigningAlgorithm = 'ES256',
  options: GenerateSigningKeyOptions = {},
): Promise<SigningKey> {
  if (!SIGNING_ALGORITHMS.includes(alg)) {
    throw new ConfigurationError(
      `alg must be one of ${SIGNING_ALGORITHMS.join(', ')}; received ${String(alg)}.`,
    );
  }
  const modulusLength = options.modulusLength ?? 2048;
  if (alg === 'RS256' && (!Number.isInteger(modulusLength) || modulusLength < 2048)) {
    throw new ConfigurationError(
      `modulusLength must be an integer of at least 2048 bits; received ${modulusLength}.`,
    );
  }
  if (alg === 'HS256') {
    const secret = createSecretKey(randomBytes(32));
    return createSigningKey({ alg, privateKey: secret, publicKey: secret, kid: options.kid });
  }
  const { privateKey, publicKey } = await generatePairFor(alg, modulusLength);
  return createSigningKey({ alg, privateKey, publicKey, kid: options.kid });
}
