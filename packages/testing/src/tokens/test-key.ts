import type { webcrypto } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose/jwk/thumbprint';
import { exportJWK, exportPKCS8, exportSPKI } from 'jose/key/export';
import { generateKeyPair } from 'jose/key/generate/keypair';
import { generateSecret } from 'jose/key/generate/secret';

/** A JSON Web Key as this package hands it out: always with `kid` and `alg`. */
export interface TestJwk {
  /** Key type: `EC`, `OKP`, `RSA` or `oct`. */
  readonly kty: string;
  /** Key id. */
  readonly kid: string;
  /** Algorithm. */
  readonly alg: string;
  /** The key members (`crv`, `x`, `y`, `d`, `n`, `e`, `k`...) and `use`. */
  readonly [member: string]: unknown;
}

/** The algorithms `@org/auth` key sets sign with. */
export type TestKeyAlgorithm = 'ES256' | 'EdDSA' | 'RS256' | 'HS256';

/**
 * A signing key whose private half the test holds, in every form an app may
 * import it from. Load it into the app's key set (`importSigningKey({ jwk: key.privateJwk })`)
 * and into {@link createTokenFactory}: both then agree on what a valid token is.
 */
export interface TestKey {
  /** The one algorithm of this key. */
  readonly alg: TestKeyAlgorithm;
  /** Key id. */
  readonly kid: string;
  /**
   * Signs (the private key or the HMAC secret). Typed from `node:crypto`: the global
   * `CryptoKey` type exists only with the DOM lib.
   */
  readonly signingKey: webcrypto.CryptoKey;
  /** The private JWK with `kid` and `alg` (an `oct` JWK for HS256). Never publish it. */
  readonly privateJwk: TestJwk;
  /** The public JWK with `kid`, `alg` and `use: "sig"`, as a JWKS publishes it; undefined for HS256. */
  readonly publicJwk: TestJwk | undefined;
  /** PKCS#8 PEM of the private key; undefined for HS256. */
  readonly privatePem: string | undefined;
  /** SPKI PEM of the public key; undefined for HS256. */
  readonly publicPem: string | undefined;
}

/** Options of {@link createTestKey}. */
export interface TestKeyOptions {
  /** The algorithm. @default 'ES256' */
  alg?: TestKeyAlgorithm;
  /** Key id. @default the RFC 7638 thumbprint of the public key (of the secret for HS256) */
  kid?: string;
}

async function generate(
  alg: TestKeyAlgorithm,
): Promise<{ signing: CryptoKey; publicKey?: CryptoKey }> {
  switch (alg) {
    case 'HS256':
      return { signing: (await generateSecret('HS256', { extractable: true })) as CryptoKey };
    case 'EdDSA': {
      const pair = await generateKeyPair('Ed25519', { extractable: true });
      return { signing: pair.privateKey, publicKey: pair.publicKey };
    }
    case 'ES256':
    case 'RS256': {
      const pair = await generateKeyPair(alg, { extractable: true });
      return { signing: pair.privateKey, publicKey: pair.publicKey };
    }
  }
}

/**
 * Generates a key for tests, exportable as JWK and PEM.
 *
 * @example
 * ```ts
 * const key = await createTestKey({ alg: 'ES256', kid: 'test-1' });
 * const keySet = createKeySet({ signingKey: await importSigningKey({ jwk: key.privateJwk }) });
 * const tokens = createTokenFactory({ key, keySet, issuer, audience, clock });
 * ```
 */
export async function createTestKey(options: TestKeyOptions = {}): Promise<TestKey> {
  const alg = options.alg ?? 'ES256';
  const { signing, publicKey } = await generate(alg);
  const privateJwk = await exportJWK(signing);
  const publicJwkRaw = publicKey === undefined ? undefined : await exportJWK(publicKey);
  const kid = options.kid ?? (await calculateJwkThumbprint(publicJwkRaw ?? privateJwk));
  return Object.freeze({
    alg,
    kid,
    signingKey: signing,
    privateJwk: Object.freeze({ ...privateJwk, kty: String(privateJwk.kty), kid, alg }),
    publicJwk:
      publicJwkRaw === undefined
        ? undefined
        : Object.freeze({ ...publicJwkRaw, kty: String(publicJwkRaw.kty), kid, alg, use: 'sig' }),
    privatePem: publicKey === undefined ? undefined : await exportPKCS8(signing),
    publicPem: publicKey === undefined ? undefined : await exportSPKI(publicKey),
  });
}
