/**
 * Turns node:crypto key objects into {@link SigningKey}s: validates the key type
 * against the algorithm, builds the public JWK from an allow-list of members, and
 * imports the Web Crypto key jose signs with once, so signing never imports.
 */
import type { KeyObject } from 'node:crypto';
import { ConfigurationError } from '@org/core';
import { calculateJwkThumbprint } from 'jose/jwk/thumbprint';
import type { PublicJwk, SigningAlgorithm, SigningKey } from '../keys/signing-key.js';

/** The keys behind a {@link SigningKey}; never reachable from the public object. */
export interface KeyMaterial {
  /** Private key or HMAC secret, as the Web Crypto key jose signs with; undefined for a verification-only key. */
  readonly signKey: CryptoKey | undefined;
  /** Public key or HMAC secret, as node:crypto verifies with. */
  readonly verifyKey: KeyObject;
}

const materials = new WeakMap<SigningKey, KeyMaterial>();

/** The keys of a key made by this package. */
export function keyMaterial(key: SigningKey): KeyMaterial {
  const material = materials.get(key);
  if (material === undefined) {
    throw new ConfigurationError(
      'A key was not created by generateSigningKey or importSigningKey; create keys with those.',
    );
  }
  return material;
}

/** The algorithms a key set may hold: RFC 8725 3.1, one fixed algorithm per key. */
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['ES256', 'EdDSA', 'RS256', 'HS256'];

/** Smallest HMAC secret: RFC 7518 3.2, a key as long as the hash output. */
export const MIN_HMAC_SECRET_BYTES = 32;

/** Smallest RSA modulus: RFC 7518 3.3. */
export const MIN_RSA_BITS = 2048;

const WEB_CRYPTO: Readonly<
  Record<SigningAlgorithm, RsaHashedImportParams | EcKeyImportParams | HmacImportParams | Algorithm>
> = {
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  EdDSA: { name: 'Ed25519' },
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  HS256: { name: 'HMAC', hash: 'SHA-256' },
};

/** The algorithm a key's type implies (EC P-256, Ed25519, RSA), or undefined for any other key. */
export function algorithmOf(key: KeyObject): SigningAlgorithm | undefined {
  switch (key.asymmetricKeyType) {
    case 'ec':
      return key.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? 'ES256' : undefined;
    case 'ed25519':
      return 'EdDSA';
    case 'rsa':
      return 'RS256';
    default:
      return key.type === 'secret' ? 'HS256' : undefined;
  }
}

/** Checks that `key` suits `alg`; the message names `option`, the option the key came from. */
export function assertKeyFits(key: KeyObject, alg: SigningAlgorithm, option: string): void {
  const implied = algorithmOf(key);
  if (implied !== alg) {
    const found =
      key.type === 'secret' ? 'a secret' : `a ${key.asymmetricKeyType ?? 'unknown'} key`;
    throw new ConfigurationError(
      `${option} holds ${found}, which cannot be used with ${alg}. ` +
        'Use an EC P-256 key for ES256, an Ed25519 key for EdDSA, an RSA key for RS256, or a secret for HS256.',
    );
  }
  if (alg === 'RS256' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) {
    throw new ConfigurationError(
      `${option} is an RSA key of ${key.asymmetricKeyDetails?.modulusLength} bits; RS256 needs at least ${MIN_RSA_BITS} (RFC 7518 3.3).`,
    );
  }
  if (alg === 'HS256' && (key.symmetricKeySize ?? 0) < MIN_HMAC_SECRET_BYTES) {
    throw new ConfigurationError(
      `${option} is ${key.symmetricKeySize} bytes long; an HS256 secret must be at least ${MIN_HMAC_SECRET_BYTES} bytes (RFC 7518 3.2). ` +
        'Generate one with `openssl rand -base64 48`.',
    );
  }
}

/** The public JWK, built member by member so no private member can ever leak into a JWKS. */
function publicJwkOf(publicKey: KeyObject, alg: SigningAlgorithm): Omit<PublicJwk, 'kid'> {
  const jwk = publicKey.export({ format: 'jwk' });
  switch (alg) {
    case 'ES256':
      return { kty: 'EC', crv: 'P-256', x: String(jwk.x), y: String(jwk.y), alg, use: 'sig' };
    case 'EdDSA':
      return { kty: 'OKP', crv: 'Ed25519', x: String(jwk.x), alg, use: 'sig' };
    case 'RS256':
      return { kty: 'RSA', n: String(jwk.n), e: String(jwk.e), alg, use: 'sig' };
    case 'HS256':
      throw new ConfigurationError('An HS256 secret has no public key.');
  }
}

/** The parts of a key, already validated with {@link assertKeyFits}. */
export interface KeyParts {
  readonly alg: SigningAlgorithm;
  /** The private key or the secret; undefined for a verification-only public key. */
  readonly privateKey: KeyObject | undefined;
  /** The public key or the secret. */
  readonly publicKey: KeyObject;
  /** Key id; the RFC 7638 thumbprint when undefined. */
  readonly kid: string | undefined;
}

/** Builds the frozen {@link SigningKey} and registers its keys. */
export async function createSigningKey(parts: KeyParts): Promise<SigningKey> {
  const { alg, privateKey, publicKey } = parts;
  const params = WEB_CRYPTO[alg];
  const secret = alg === 'HS256';
  const publicJwk = secret ? undefined : publicJwkOf(publicKey, alg);
  // RFC 7638: a kid every instance derives alike from the same key file.
  const kid =
    parts.kid ??
    (await calculateJwkThumbprint(
      publicJwk ?? { kty: 'oct', k: publicKey.export().toString('base64url') },
    ));
  if (kid === '') throw new ConfigurationError('kid must not be empty.');
  // Node's webcrypto types and the DOM's differ only in usages this code never asks for.
  const signKey = (secret ? publicKey : privateKey)?.toCryptoKey(params, false, [
    'sign',
  ]) as unknown as CryptoKey | undefined;
  const key: SigningKey = Object.freeze({
    kid,
    alg,
    canSign: signKey !== undefined,
    publicJwk: publicJwk === undefined ? undefined : Object.freeze({ ...publicJwk, kid }),
  });
  materials.set(key, Object.freeze({ signKey, verifyKey: publicKey }));
  return key;
}
