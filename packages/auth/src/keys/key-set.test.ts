import { ConfigurationError } from '@org/core';
import { describe, expect, it, vi } from 'vitest';
import { importSigningKey } from './import-signing-key.js';
import { createKeySet, KeySetError } from './key-set.js';
import { generateSigningKey } from './signing-key.js';

const PUBLIC_MEMBERS = new Set(['kty', 'kid', 'alg', 'use', 'crv', 'x', 'y', 'n', 'e']);

describe('createKeySet', () => {
  it('publishes the public members of asymmetric keys only, never a private key or a secret', async () => {
    const keys = await Promise.all([
      generateSigningKey('ES256'),
      generateSigningKey('EdDSA'),
      generateSigningKey('RS256'),
      generateSigningKey('HS256'),
    ]);
    const [es, ed, rs, hs] = keys as [
      (typeof keys)[0],
      (typeof keys)[0],
      (typeof keys)[0],
      (typeof keys)[0],
    ];
    const keySet = createKeySet({ signingKey: es, verificationKeys: [ed, rs, hs] });
    const { keys: published } = keySet.jwks();
    expect(published.map((jwk) => jwk.kid)).toEqual([es.kid, rs.kid, ed.kid]);
    for (const jwk of published) {
      for (const member of Object.keys(jwk)) expect(PUBLIC_MEMBERS.has(member)).toBe(true);
      expect(jwk.use).toBe('sig');
    }
    expect(JSON.stringify(keySet.jwks())).not.toMatch(/"(d|p|q|dp|dq|qi|k)"/);
    expect(keySet.algorithms).toEqual(['ES256', 'HS256', 'RS256', 'EdDSA']);
    expect(keySet.get(hs.kid)).toBe(hs);
    expect(keySet.get('__proto__')).toBeUndefined();
  });

  it('rotates: the new key signs, the retired one still verifies and stays published', async () => {
    const first = await generateSigningKey('ES256');
    const keySet = createKeySet({ signingKey: first });
    const listener = vi.fn();
    const unsubscribe = keySet.onChange(listener);
    const second = await generateSigningKey('ES256');
    keySet.rotate(second);
    expect(keySet.signingKey).toBe(second);
    expect(keySet.keys).toEqual([second, first]);
    expect(keySet.jwks().keys.map((k) => k.kid)).toEqual([second.kid, first.kid]);
    expect(listener).toHaveBeenLastCalledWith({ type: 'rotated', kid: second.kid });
    keySet.remove(first.kid);
    expect(listener).toHaveBeenLastCalledWith({ type: 'removed', kid: first.kid });
    expect(keySet.get(first.kid)).toBeUndefined();
    expect(keySet.jwks().keys.map((k) => k.kid)).toEqual([second.kid]);
    unsubscribe();
    keySet.add(await generateSigningKey('EdDSA'));
    expect(listener).toHaveBeenCalledTimes(2);
  });

  it('rotates to a key published ahead with add', async () => {
    const keySet = createKeySet({ signingKey: await generateSigningKey('ES256') });
    const next = await generateSigningKey('ES256');
    keySet.add(next);
    expect(keySet.signingKey).not.toBe(next);
    keySet.rotate(next);
    expect(keySet.signingKey).toBe(next);
    expect(keySet.keys).toHaveLength(2);
  });

  it('guards against misuse with stable codes', async () => {
    const signing = await generateSigningKey('ES256');
    const keySet = createKeySet({ signingKey: signing });
    const code = (fn: () => void) => {
      try {
        fn();
      } catch (error) {
        expect(error).toBeInstanceOf(KeySetError);
        return (error as KeySetError).code;
      }
      return undefined;
    };
    expect(code(() => keySet.remove(signing.kid))).toBe('ERR_KEY_IN_USE');
    expect(code(() => keySet.remove('nope'))).toBe('ERR_KEY_NOT_FOUND');
    expect(code(() => keySet.add(signing))).toBe('ERR_KEY_EXISTS');
    const publicOnly = await importSigningKey({ jwk: signing.publicJwk as never, kid: 'pub' });
    expect(code(() => keySet.rotate(publicOnly))).toBe('ERR_KEY_CANNOT_SIGN');
    const forged = { kid: 'fake', alg: 'ES256', canSign: true, publicJwk: undefined } as const;
    expect(() => keySet.add(forged)).toThrow(ConfigurationError);
  });

  it('refuses a bad set at start-up', async () => {
    const key = await generateSigningKey('ES256');
    expect(() => createKeySet({})).toThrow(/needs a signingKey or verificationKeys/);
    expect(() => createKeySet({ signingKey: key, verificationKeys: [key] })).toThrow(
      /already in the set/,
    );
    const publicOnly = await importSigningKey({ jwk: key.publicJwk as never });
    expect(() => createKeySet({ signingKey: publicOnly })).toThrow(/holds no private key/);
    expect(createKeySet({ verificationKeys: [publicOnly] }).signingKey).toBeUndefined();
  });
});
