import {
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  type KeyObject,
  type JsonWebKey as NodeJsonWebKey,
} from 'node:crypto';
import { ConfigurationError } from '@org/core';
import { foreignPrivateMember, purposeProblem } from '../internal/jwk-rules.js';
import {
  algorithmOf,
  assertKeyFits,
  createSigningKey,
  SIGNING_ALGORITHMS,
} from '../internal/key-material.js';
import type { SigningAlgorithm, SigningKey } from './signing-key.js';

/** A JSON Web Key as read from a file or an environment variable (RFC 7517 4). */
export interface JsonWebKeyInput {
  /** Key type: `EC`, `OKP`, `RSA` or `oct`. */
  readonly kty: string;
  /** Key id; used when the `kid` option is not given. */
  readonly kid?: string;
  /** Algorithm; must agree with the `alg` option when both are given. */
  readonly alg?: string;
  /** Any other member (`crv`, `x`, `d`, `n`, `k`, ...). */
  readonly [member: string]: unknown;
}

/** Options of {@link importSigningKey}: exactly one of `pem`, `jwk` or `secret`. */
export interface ImportSigningKeyOptions {
  /**
   * PEM text. A private key (PKCS#8, SEC1 or PKCS#1) signs and verifies; a public key
   * (SPKI) only verifies, for instance another instance's key.
   */
  pem?: string;
  /** A JWK. With its private members it signs; without them it only verifies. `oct` is an HS256 secret. */
  jwk?: JsonWebKeyInput;
  /**
   * An HS256 secret of at least 32 bytes (RFC 7518 3.2); a string counts its UTF-8
   * bytes. Shorter secrets are refused at start with a {@link ConfigurationError}.
   */
  secret?: string | Uint8Array;
  /**
   * The algorithm. @default inferred from the key: EC P-256 is ES256, Ed25519 is
   * EdDSA, RSA is RS256, a secret is HS256
   */
  alg?: SigningAlgorithm;
  /** Key id. @default the JWK's own `kid`, else the RFC 7638 JWK thumbprint */
  kid?: string;
}

function readPem(pem: string): { privateKey: KeyObject | undefined; publicKey: KeyObject } {
  try {
    if (pem.includes('PRIVATE KEY-----')) {
      const privateKey = createPrivateKey(pem);
      return { privateKey, publicKey: createPublicKey(privateKey) };
    }
    return { privateKey: undefined, publicKey: createPublicKey(pem) };
  } catch (cause) {
    throw new ConfigurationError(
      `pem is not a readable PEM key (${(cause as Error).message}). Pass a PKCS#8 private key or an SPKI public key.`,
    );
  }
}

/**
 * RFC 7517 4.2, 4.3 and RFC 7518 6: a JWK meant for another use, or with private
 * members its type does not have, is refused rather than half-imported.
 */
function checkJwk(jwk: JsonWebKeyInput): void {
  if (typeof jwk !== 'object' || jwk === null) {
    throw new ConfigurationError(
      'jwk must be a JSON Web Key object, for example JSON.parse(file).',
    );
  }
  const foreign = foreignPrivateMember(jwk);
  if (foreign !== undefined) {
    throw new ConfigurationError(`jwk is malformed: ${foreign}. Export the key again.`);
  }
  // A private key or secret signs (its public half verifies); a public key only verifies.
  const operation = jwk.kty === 'oct' || jwk.d !== undefined ? 'sign' : 'verify';
  const problem = purposeProblem(jwk, operation);
  if (problem !== undefined) {
    throw new ConfigurationError(
      `jwk cannot ${operation} tokens: ${problem}. Import a signature key, or remove "use" and "key_ops".`,
    );
  }
}

function readJwk(jwk: JsonWebKeyInput): {
  privateKey: KeyObject | undefined;
  publicKey: KeyObject;
} {
  try {
    if (jwk.kty === 'oct') {
      if (typeof jwk.k !== 'string') throw new Error('an oct key needs "k"');
      const secret = createSecretKey(Buffer.from(jwk.k, 'base64url'));
      return { privateKey: secret, publicKey: secret };
    }
    const key = { ...jwk } as unknown as NodeJsonWebKey;
    if (typeof jwk.d === 'string') {
      const privateKey = createPrivateKey({ key, format: 'jwk' });
      return { privateKey, publicKey: createPublicKey(privateKey) };
    }
    return { privateKey: undefined, publicKey: createPublicKey({ key, format: 'jwk' }) };
  } catch (cause) {
    throw new ConfigurationError(
      `jwk is not a usable JSON Web Key (${(cause as Error).message}). Pass an EC P-256, Ed25519, RSA or oct key.`,
    );
  }
}

/**
 * Imports a key from PEM, a JWK or an HMAC secret, validating it against its
 * algorithm at start-up: an RSA key under 2048 bits or a secret under 32 bytes is a
 * {@link ConfigurationError} that names the option.
 *
 * @example
 * ```ts
 * const signingKey = await importSigningKey({ pem: await readFile(process.env.SIGNING_KEY_FILE, 'utf8') });
 * const hmacKey = await importSigningKey({ secret: process.env.JWT_SECRET, kid: 'hs-2025-06' });
 * ```
 */
export async function importSigningKey(options: ImportSigningKeyOptions): Promise<SigningKey> {
  const given = (['pem', 'jwk', 'secret'] as const).filter((name) => options[name] !== undefined);
  if (given.length !== 1) {
    throw new ConfigurationError(
      `importSigningKey takes exactly one of pem, jwk or secret; received ${given.length === 0 ? 'none' : given.join(' and ')}.`,
    );
  }
  const option = given[0] as 'pem' | 'jwk' | 'secret';
  if (options.alg !== undefined && !SIGNING_ALGORITHMS.includes(options.alg)) {
    throw new ConfigurationError(
      `alg must be one of ${SIGNING_ALGORITHMS.join(', ')}; received ${String(options.alg)}.`,
    );
  }
  let parts: { privateKey: KeyObject | undefined; publicKey: KeyObject };
  if (options.pem !== undefined) {
    parts = readPem(options.pem);
  } else if (options.jwk !== undefined) {
    checkJwk(options.jwk);
    parts = readJwk(options.jwk);
  } else {
    const secret = options.secret as string | Uint8Array;
    const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
    const key = createSecretKey(bytes);
    parts = { privateKey: key, publicKey: key };
  }
  const jwkAlg = options.jwk?.alg;
  if (jwkAlg !== undefined && options.alg !== undefined && jwkAlg !== options.alg) {
    throw new ConfigurationError(`jwk.alg is ${jwkAlg} but the alg option is ${options.alg}.`);
  }
  const alg =
    options.alg ?? (jwkAlg as SigningAlgorithm | undefined) ?? algorithmOf(parts.publicKey);
  if (alg === undefined) {
    throw new ConfigurationError(
      `${option} holds a key that is not EC P-256, Ed25519, RSA or an HMAC secret; it cannot sign tokens here.`,
    );
  }
  if (!SIGNING_ALGORITHMS.includes(alg)) {
    throw new ConfigurationError(
      `jwk.alg is ${alg}; a key set holds ${SIGNING_ALGORITHMS.join(', ')} keys only.`,
    );
  }
  assertKeyFits(parts.publicKey, alg, option);
  return createSigningKey({ alg, ...parts, kid: options.kid ?? options.jwk?.kid });
}
