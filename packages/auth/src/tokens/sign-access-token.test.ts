import { ConfigurationError } from '@org/core';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { createKeySet } from '../keys/key-set.js';
import { generateSigningKey, type SigningAlgorithm } from '../keys/signing-key.js';
import { createAccessTokenSigner } from './sign-access-token.js';
import { TokenError } from './types.js';
import { createAccessTokenVerifier } from './verify-access-token.js';

const options = { issuer: 'https://api.example.test', audience: 'api' };
const fixedClock = (ms: number) => ({ now: () => ms });

describe('createAccessTokenSigner', () => {
  it.each<SigningAlgorithm>(['ES256', 'EdDSA', 'RS256', 'HS256'])(
    'signs an RFC 9068 token with %s that the verifier accepts',
    async (alg) => {
      const keySet = createKeySet({ signingKey: await generateSigningKey(alg) });
      const signer = createAccessTokenSigner({ keySet, ...options, clientId: 'web' });
      const verifier = createAccessTokenVerifier({ keySet, ...options });
      const signed = await signer.sign({
        subject: 'u1',
        roles: ['user'],
        scope: ['read', 'write'],
      });
      expect(decodeProtectedHeader(signed.token)).toEqual({
        alg,
        kid: keySet.signingKey?.kid,
        typ: 'at+jwt',
      });
      const claims = await verifier.verify(signed.token);
      expect(claims).toEqual(signed.claims);
      expect(claims).toMatchObject({
        sub: 'u1',
        roles: ['user'],
        scope: 'read write',
        client_id: 'web',
      });
      expect(claims.exp - claims.iat).toBe(900);
      expect(signed.expiresIn).toBe(900);
      expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    },
  );

  it('uses the clock, a configured lifetime and per-token overrides; registered claims win', async () => {
    const keySet = createKeySet({ signingKey: await generateSigningKey('EdDSA') });
    const clock = fixedClock(1_700_000_000_000);
    const signer = createAccessTokenSigner({ keySet, ...options, expiresIn: 1800, clock });
    const first = await signer.sign({
      subject: 'u1',
      claims: { iss: 'https://evil.test', tenant: 't1' },
    });
    expect(decodeJwt(first.token)).toMatchObject({
      iss: options.issuer,
      iat: 1_700_000_000,
      exp: 1_700_001_800,
      tenant: 't1',
    });
    const second = await signer.sign({ subject: 'u1', audience: ['a', 'b'], expiresIn: 60 });
    expect(decodeJwt(second.token)).toMatchObject({ aud: ['a', 'b'], exp: 1_700_000_060 });
    expect(second.claims.jti).not.toBe(first.claims.jti);
  });

  it('refuses bad configuration at start-up, naming the option', async () => {
    const keySet = createKeySet({ signingKey: await generateSigningKey('ES256') });
    expect(() => createAccessTokenSigner({ keySet, ...options, expiresIn: 0 })).toThrow(
      /expiresIn/,
    );
    expect(() => createAccessTokenSigner({ keySet, ...options, issuer: '' })).toThrow(/issuer/);
    expect(() => createAccessTokenSigner({ keySet, ...options, audience: [] })).toThrow(
      ConfigurationError,
    );
    const publicOnly = createKeySet({ verificationKeys: [await generateSigningKey('ES256')] });
    expect(() => createAccessTokenSigner({ keySet: publicOnly, ...options })).toThrow(/signingKey/);
  });
});

describe('key rotation', () => {
  it('verifies tokens of the retired key until it is removed', async () => {
    const oldKey = await generateSigningKey('ES256');
    const keySet = createKeySet({ signingKey: oldKey });
    const signer = createAccessTokenSigner({ keySet, ...options });
    const verifier = createAccessTokenVerifier({ keySet, ...options });
    const before = await signer.sign({ subject: 'u1' });
    await verifier.verify(before.token);
    expect(verifier.cacheSize).toBe(1);

    const newKey = await generateSigningKey('EdDSA');
    keySet.rotate(newKey);
    expect(verifier.cacheSize).toBe(0); // retiring a key empties the cache
    const after = await signer.sign({ subject: 'u1' });
    expect(decodeProtectedHeader(after.token)).toMatchObject({ kid: newKey.kid, alg: 'EdDSA' });
    // Retired but not removed: still verifies, and the allow-list now holds both algorithms.
    await expect(verifier.verify(before.token)).resolves.toMatchObject({ sub: 'u1' });
    await expect(verifier.verify(after.token)).resolves.toMatchObject({ sub: 'u1' });
    expect(keySet.algorithms).toEqual(['EdDSA', 'ES256']);

    keySet.remove(oldKey.kid);
    const error = await verifier.verify(before.token).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenError);
    expect((error as TokenError).code).toBe('ERR_TOKEN_INVALID');
    await expect(verifier.verify(after.token)).resolves.toMatchObject({ sub: 'u1' });
    expect(keySet.algorithms).toEqual(['EdDSA']);
  });

  it('verifies tokens signed by another instance whose public key was added', async () => {
    const otherInstance = await generateSigningKey('ES256');
    const otherSet = createKeySet({ signingKey: otherInstance });
    const token = (
      await createAccessTokenSigner({ keySet: otherSet, ...options }).sign({ subject: 'u9' })
    ).token;
    const ours = createKeySet({ signingKey: await generateSigningKey('ES256') });
    const verifier = createAccessTokenVerifier({ keySet: ours, ...options });
    await expect(verifier.verify(token)).rejects.toBeInstanceOf(TokenError);
    const { importSigningKey } = await import('../keys/import-signing-key.js');
    ours.add(await importSigningKey({ jwk: otherInstance.publicJwk as never }));
    await expect(verifier.verify(token)).resolves.toMatchObject({ sub: 'u9' });
  });
});
