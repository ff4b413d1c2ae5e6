import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { ConfigurationError } from '@org/core';
import { describe, expect, it } from 'vitest';
import { importSigningKey } from './import-signing-key.js';
import { generateSigningKey } from './signing-key.js';

const pem = (type: 'ec' | 'ed25519' | 'rsa', options: Record<string, unknown> = {}) => {
  const { privateKey, publicKey } = generateKeyPairSync(
    type as 'ec',
    options as { namedCurve: string },
  );
  return {
    private: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    public: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    jwk: privateKey.export({ format: 'jwk' }),
  };
};

async function configurationError(promise: Promise<unknown>): Promise<string> {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigurationError);
  expect((error as ConfigurationError).code).toBe('ERR_CONFIGURATION');
  return (error as Error).message;
}

describe('importSigningKey', () => {
  it.each([
    ['ES256', 'ec', { namedCurve: 'P-256' }],
    ['EdDSA', 'ed25519', {}],
    ['RS256', 'rsa', { modulusLength: 2048 }],
  ] as const)(
    'infers %s from a PEM key; a public PEM only verifies',
    async (alg, type, options) => {
      const keys = pem(type, options);
      const signing = await importSigningKey({ pem: keys.private });
      expect(signing).toMatchObject({ alg, canSign: true });
      const verifying = await importSigningKey({ pem: keys.public });
      expect(verifying).toMatchObject({ alg, canSign: false });
      // RFC 7638 thumbprint: every instance derives the same kid from the same key.
      expect(verifying.kid).toBe(signing.kid);
      expect(verifying.publicJwk).toEqual(signing.publicJwk);
      const fromJwk = await importSigningKey({ jwk: { ...keys.jwk, kty: String(keys.jwk.kty) } });
      expect(fromJwk).toMatchObject({ alg, canSign: true, kid: signing.kid });
    },
  );

  it('keeps private members out of everything reachable from the key', async () => {
    const keys = pem('ec', { namedCurve: 'P-256' });
    const key = await importSigningKey({ pem: keys.private, kid: 'k1' });
    const serialized = JSON.stringify(key);
    expect(serialized).not.toContain(String(keys.jwk.d));
    expect(Object.keys(key.publicJwk ?? {}).sort()).toEqual([
      'alg',
      'crv',
      'kid',
      'kty',
      'use',
      'x',
      'y',
    ]);
    expect(key.kid).toBe('k1');
  });

  it('refuses an HMAC secret under 32 bytes, naming the option', async () => {
    expect(await configurationError(importSigningKey({ secret: 'short-secret' }))).toMatch(
      /^secret is 12 bytes/,
    );
    expect(await configurationError(importSigningKey({ secret: randomBytes(31) }))).toMatch(
      /at least 32 bytes/,
    );
    const shortJwk = { kty: 'oct', k: randomBytes(16).toString('base64url') };
    expect(await configurationError(importSigningKey({ jwk: shortJwk }))).toMatch(
      /^jwk is 16 bytes/,
    );
    await expect(importSigningKey({ secret: randomBytes(32) })).resolves.toMatchObject({
      alg: 'HS256',
      canSign: true,
      publicJwk: undefined,
    });
  });

  it('refuses keys that do not fit their algorithm', async () => {
    const small = pem('rsa', { modulusLength: 1024 });
    expect(await configurationError(importSigningKey({ pem: small.private }))).toMatch(/1024 bits/);
    const p384 = pem('ec', { namedCurve: 'P-384' });
    expect(await configurationError(importSigningKey({ pem: p384.private }))).toMatch(
      /pem holds a key/,
    );
    const ec = pem('ec', { namedCurve: 'P-256' });
    expect(await configurationError(importSigningKey({ pem: ec.private, alg: 'RS256' }))).toMatch(
      /cannot be used with RS256/,
    );
    expect(
      await configurationError(importSigningKey({ pem: ec.private, alg: 'none' as never })),
    ).toMatch(/alg must be/);
    expect(
      await configurationError(importSigningKey({ jwk: { ...ec.jwk, kty: 'EC', alg: 'ES384' } })),
    ).toMatch(/^jwk.alg is ES384/);
    expect(
      await configurationError(
        importSigningKey({ jwk: { ...ec.jwk, kty: 'EC', alg: 'ES256' }, alg: 'EdDSA' }),
      ),
    ).toMatch(/jwk.alg is ES256/);
  });

  it('refuses unreadable input and ambiguous options', async () => {
    expect(await configurationError(importSigningKey({ pem: 'not a key' }))).toMatch(
      /^pem is not a readable PEM/,
    );
    expect(await configurationError(importSigningKey({}))).toMatch(
      /exactly one of pem, jwk or secret/,
    );
    expect(await configurationError(importSigningKey({ pem: 'x', secret: 'y' }))).toMatch(
      /pem and secret/,
    );
    expect(
      await configurationError(importSigningKey({ jwk: { kty: 'EC', crv: 'P-256' } })),
    ).toMatch(/^jwk is not/);
  });
});

describe('generateSigningKey', () => {
  it.each(['ES256', 'EdDSA', 'RS256', 'HS256'] as const)(
    'generates a %s key that signs',
    async (alg) => {
      const key = await generateSigningKey(alg);
      expect(key).toMatchObject({ alg, canSign: true });
      expect(key.kid).toMatch(/^[\w-]{43}$/);
      expect(Object.isFrozen(key)).toBe(true);
    },
  );

  it('refuses a JWK meant for another use, or with members of another key type (RFC 7517 4.2, 4.3)', async () => {
    const { jwk } = pem('ec', { namedCurve: 'P-256' });
    const { d: _d, ...publicOnly } = jwk;
    expect(
      await configurationError(importSigningKey({ jwk: { ...jwk, kty: 'EC', use: 'enc' } })),
    ).toMatch(/^jwk cannot sign tokens: its "use" is "enc"/);
    expect(
      await configurationError(
        importSigningKey({ jwk: { ...publicOnly, kty: 'EC', key_ops: ['sign'] } }),
      ),
    ).toMatch(/^jwk cannot verify tokens: its "key_ops" does not include "verify"/);
    expect(
      await configurationError(
        importSigningKey({ jwk: { ...jwk, kty: 'EC', key_ops: ['verify'] } }),
      ),
    ).toMatch(/"key_ops" does not include "sign"/);
    // Web Crypto exports a private key with key_ops ["sign"] and a public one with ["verify"].
    await expect(
      importSigningKey({ jwk: { ...jwk, kty: 'EC', key_ops: ['sign'] } }),
    ).resolves.toMatchObject({ canSign: true });
    await expect(
      importSigningKey({ jwk: { ...publicOnly, kty: 'EC', key_ops: ['verify'], use: 'sig' } }),
    ).resolves.toMatchObject({ canSign: false });
    expect(
      await configurationError(importSigningKey({ jwk: { ...publicOnly, kty: 'EC', k: 'AAAA' } })),
    ).toMatch(/^jwk is malformed: "k" does not belong in a key of type EC/);
    const rsa = pem('rsa', { modulusLength: 2048 }).jwk;
    const { d: _rd, ...rsaWithPrimes } = rsa;
    expect(
      await configurationError(importSigningKey({ jwk: { ...rsaWithPrimes, kty: 'RSA' } })),
    ).toMatch(/needs "d"/);
    expect(
      await configurationError(importSigningKey({ jwk: { ...rsa, kty: 'RSA', oth: [] } })),
    ).toMatch(/multi-prime/);
  });

  it('refuses unknown algorithms and small RSA keys', async () => {
    expect(await configurationError(generateSigningKey('none' as never))).toMatch(/alg must be/);
    expect(await configurationError(generateSigningKey('RS256', { modulusLength: 1024 }))).toMatch(
      /modulusLength/,
    );
  });
});
