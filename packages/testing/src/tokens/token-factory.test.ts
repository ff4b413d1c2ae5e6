import { createAccessTokenVerifier, createKeySet, importSigningKey } from '@org/auth';
import {
  compactVerify,
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  type JWK,
  jwtVerify,
} from 'jose';
import { describe, expect, it } from 'vitest';
import { createTestClock } from '../clock/test-clock.js';
import { TestingError } from '../errors/testing-error.js';
import { deriveForgeries } from './derive-forgeries.js';
import { SIGNED_FORGERIES } from './forgery-names.js';
import { createRefreshTokenString } from './refresh-token.js';
import { createTestKey, type TestKeyAlgorithm } from './test-key.js';
import { createTokenFactory } from './token-factory.js';

const issuer = 'https://api.test';
const audience = 'api';
const START = Date.parse('2030-01-01T00:00:00Z');

async function setup(alg: TestKeyAlgorithm) {
  const clock = createTestClock(START);
  const key = await createTestKey({ alg, kid: `k-${alg}` });
  const keySet = createKeySet({ signingKey: await importSigningKey({ jwk: key.privateJwk }) });
  const verifier = createAccessTokenVerifier({ keySet, issuer, audience, clock, cache: false });
  const tokens = createTokenFactory({ key, keySet, issuer, audience, clock });
  return { clock, key, keySet, verifier, tokens };
}

describe.each(['ES256', 'EdDSA', 'RS256', 'HS256'] as const)('token factory with %s', (alg) => {
  it('mints tokens the auth verifier accepts, with any claims and roles', async () => {
    const { verifier, tokens, key } = await setup(alg);
    const token = await tokens.accessToken({
      subject: 'u7',
      roles: ['admin'],
      scope: ['a', 'b'],
      claims: { tenant: 't1' },
    });
    expect(decodeProtectedHeader(token)).toEqual({ alg, kid: key.kid, typ: 'at+jwt' });
    const claims = await verifier.verify(token);
    expect(claims).toMatchObject({
      sub: 'u7',
      roles: ['admin'],
      scope: 'a b',
      tenant: 't1',
      iss: issuer,
      aud: audience,
    });
    expect(claims.iat).toBe(START / 1000);
    expect(claims.exp).toBe(START / 1000 + 900);
  });

  it('makes every forgery, and the auth verifier refuses each one', async () => {
    const { verifier, tokens } = await setup(alg);
    const forgeries = await tokens.forgeries({ subject: 'u1' });
    const names = forgeries.map((forgery) => forgery.name);
    expect(new Set(names).size).toBe(names.length);
    for (const required of [
      'alg-none',
      'alg-None',
      'alg-NONE',
      'tampered-payload',
      'stripped-signature',
      'unknown-kid',
      'foreign-key',
      'embedded-jwk',
      'jku',
      'x5u',
      'jwe-shaped',
      'oversize',
      'refresh-token-as-access',
      ...Object.keys(SIGNED_FORGERIES),
    ]) {
      expect(names).toContain(required);
    }
    if (alg !== 'HS256') {
      expect(names).toEqual(
        expect.arrayContaining([
          'hs256-public-key-pem',
          'hs256-public-key-jwk',
          'hs256-public-key-der',
        ]),
      );
    }
    for (const forgery of forgeries) {
      await expect(verifier.verify(forgery.token), forgery.name).rejects.toMatchObject({
        code: expect.stringMatching(/^ERR_TOKEN_(INVALID|EXPIRED)$/),
      });
    }
  });

  it('signs the signed forgeries with the real key, so only the one claim is wrong', async () => {
    const { tokens, key } = await setup(alg);
    const verifyKey = await importJWK((key.publicJwk ?? key.privateJwk) as JWK, alg);
    for (const name of Object.keys(SIGNED_FORGERIES) as (keyof typeof SIGNED_FORGERIES)[]) {
      const token = await tokens.forge(name);
      await expect(
        compactVerify(token, verifyKey, { crit: { 'x-org-unknown': true } }),
        name,
      ).resolves.toBeDefined();
    }
    expect(decodeJwt(await tokens.forge('expired')).exp).toBe(START / 1000 - 3600);
    expect(decodeJwt(await tokens.forge('missing-exp')).exp).toBeUndefined();
    expect(decodeJwt(await tokens.forge('issuer-array')).iss).toEqual([
      issuer,
      'https://attacker.example',
    ]);
    expect(decodeProtectedHeader(await tokens.forge('wrong-typ')).typ).toBe('JWT');
  });
});

describe('forgery details', () => {
  it('becomes valid when the shared clock moves, and expires when it moves on', async () => {
    const { verifier, tokens, clock } = await setup('ES256');
    const early = await tokens.forge('not-yet-valid');
    const token = await tokens.accessToken();
    clock.advance(3600_000);
    await expect(verifier.verify(early)).resolves.toMatchObject({ sub: 'user-1' });
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'ERR_TOKEN_EXPIRED' });
    clock.advance(3600_000 + 31_000); // past its exp and the 30 s tolerance
    await expect(verifier.verify(early)).rejects.toMatchObject({ code: 'ERR_TOKEN_EXPIRED' });
  });

  it('keys the HS256 confusion attacks with the public key itself', async () => {
    const { tokens, key, keySet } = await setup('ES256');
    const pem = key.publicPem ?? '';
    const token = await tokens.forge('hs256-public-key-pem');
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'HS256', kid: key.kid });
    await expect(jwtVerify(token, new TextEncoder().encode(pem))).resolves.toBeDefined();
    const jwkToken = await tokens.forge('hs256-public-key-jwk');
    await expect(
      jwtVerify(jwkToken, new TextEncoder().encode(JSON.stringify(keySet.jwks().keys[0]))),
    ).resolves.toBeDefined();
  });

  it('relabels ES256 as ES384 and ES512 keeping the signature, and shapes the odd ones', async () => {
    const { tokens } = await setup('ES256');
    const valid = await tokens.accessToken();
    for (const other of ['ES384', 'ES512']) {
      const token = await tokens.forge(`alg-relabelled-${other}`);
      expect(decodeProtectedHeader(token).alg).toBe(other);
      expect(token.split('.')[2]).toHaveLength(valid.split('.')[2]?.length ?? 0);
    }
    expect((await tokens.forge('jwe-shaped')).split('.')).toHaveLength(5);
    expect((await tokens.forge('stripped-signature')).endsWith('.')).toBe(true);
    expect((await tokens.forge('oversize')).length).toBeGreaterThan(10_000);
    expect((await tokens.forge('oversize')).length).toBeLessThan(16_384);
    expect(decodeJwt(await tokens.forge('tampered-payload')).roles).toEqual(['admin']);
    expect(decodeProtectedHeader(await tokens.forge('jku')).jku).toMatch(/^https:\/\/attacker/);
    await expect(tokens.forge('alg-relabelled-XYZ')).rejects.toMatchObject({
      code: 'ERR_TOKEN_FACTORY',
    });
  });

  it('refuses to derive forgeries from something that is not a JWS', async () => {
    await expect(deriveForgeries('not-a-jwt')).rejects.toMatchObject({ code: 'ERR_TOKEN_FACTORY' });
    await expect(deriveForgeries('a.b.c')).rejects.toBeInstanceOf(TestingError);
  });

  it('shapes refresh tokens like @org/auth does', () => {
    const token = createRefreshTokenString();
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(createRefreshTokenString(token.slice(0, 22)).slice(0, 22)).toBe(token.slice(0, 22));
  });
});
