import { generateKeyPairSync } from 'node:crypto';
import {
  createAccessTokenSigner,
  createAccessTokenVerifier,
  createKeySet,
  generateSigningKey,
  importJwks,
  type JsonWebKeyInput,
} from '@org/auth';
import { ConfigurationError } from '@org/core';
import { describe, expect, it } from 'vitest';

async function configurationError(promise: Promise<unknown>): Promise<string> {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigurationError);
  return (error as Error).message;
}

/** A fresh EC P-256 public JWK. */
const publicJwk = (): JsonWebKeyInput => ({
  ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }),
  kty: 'EC',
  alg: 'ES256',
});

describe('importJwks', () => {
  it("imports another instance's JWKS as verification keys that verify its tokens", async () => {
    const peer = createKeySet({ signingKey: await generateSigningKey('EdDSA') });
    const peerSigner = createAccessTokenSigner({
      keySet: peer,
      issuer: 'https://a.test',
      audience: 'api',
    });
    const keys = await importJwks(JSON.parse(JSON.stringify(peer.jwks())));
    expect(keys.map((key) => [key.kid, key.alg, key.canSign])).toEqual([
      [peer.signingKey?.kid, 'EdDSA', false],
    ]);
    const ours = createKeySet({
      signingKey: await generateSigningKey('ES256'),
      verificationKeys: keys,
    });
    const verifier = createAccessTokenVerifier({
      keySet: ours,
      issuer: 'https://a.test',
      audience: 'api',
    });
    const { token } = await peerSigner.sign({ subject: 'u1' });
    await expect(verifier.verify(token)).resolves.toMatchObject({ sub: 'u1' });
  });

  it.each(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'])(
    'refuses an entry carrying the private member "%s", naming it (RFC 7517 9.2)',
    async (member) => {
      const message = await configurationError(
        importJwks({
          keys: [
            { ...publicJwk(), kid: 'a' },
            { ...publicJwk(), kid: 'b', [member]: 'AQAB' },
          ],
        }),
      );
      expect(message).toMatch(
        new RegExp(`^jwks\\.keys\\[1\\] carries the private member\\(s\\) "${member}"`),
      );
    },
  );

  it('refuses an oct secret, which an asymmetric verifier set never holds', async () => {
    const message = await configurationError(
      importJwks({ keys: [{ kty: 'oct', kid: 'h', k: Buffer.alloc(32).toString('base64url') }] }),
    );
    expect(message).toMatch(/"k"/);
  });

  it.each([
    [{ use: 'enc' }, /"use" is "enc", not "sig"/],
    [{ key_ops: ['encrypt'] }, /"key_ops" does not include "verify"/],
    [{ key_ops: ['sign'] }, /"key_ops" does not include "verify"/],
    [{ key_ops: 'verify' }, /"key_ops" does not include "verify"/],
  ])(
    'refuses an entry that is not for verification: %j (RFC 7517 4.2, 4.3)',
    async (extra, reason) => {
      const message = await configurationError(
        importJwks({ keys: [{ ...publicJwk(), ...extra }] }),
      );
      expect(message).toMatch(/^jwks\.keys\[0\] cannot verify signatures/);
      expect(message).toMatch(reason);
    },
  );

  it('accepts use sig and key_ops with verify', async () => {
    const keys = await importJwks({
      keys: [
        { ...publicJwk(), kid: 'a', use: 'sig' },
        { ...publicJwk(), kid: 'b', key_ops: ['verify'] },
      ],
    });
    expect(keys.map((key) => key.kid)).toEqual(['a', 'b']);
  });

  it('refuses a duplicate kid, also between keys that default to one thumbprint (RFC 7517 4.5)', async () => {
    const message = await configurationError(
      importJwks({
        keys: [
          { ...publicJwk(), kid: 'same' },
          { ...publicJwk(), kid: 'same' },
        ],
      }),
    );
    expect(message).toMatch(/^jwks\.keys\[1\] has kid "same", as jwks\.keys\[0\] does/);
    const jwk = publicJwk();
    expect(await configurationError(importJwks({ keys: [jwk, { ...jwk }] }))).toMatch(/has kid/);
  });

  it('refuses a document that is not a JWK Set, and names the entry of an unusable key', async () => {
    expect(await configurationError(importJwks({ keys: [] }))).toMatch(/^jwks must be a JWK Set/);
    expect(await configurationError(importJwks(null as never))).toMatch(/^jwks must be a JWK Set/);
    expect(await configurationError(importJwks({ keys: ['x' as never] }))).toMatch(
      /^jwks\.keys\[0\] is not/,
    );
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({
      format: 'jwk',
    });
    expect(
      await configurationError(importJwks({ keys: [publicJwk(), { ...p384, kty: 'EC' }] })),
    ).toMatch(/^jwks\.keys\[1\]: /);
  });
});
