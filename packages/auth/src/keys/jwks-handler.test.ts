import { createToolkit } from '@org/core';
import { adapters, type RunningApp } from '@org/test-support';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JWKS_CONTENT_TYPE, jwksHandler } from './jwks-handler.js';
import { createKeySet, type KeySet } from './key-set.js';
import { generateSigningKey } from './signing-key.js';

const PATH = '/.well-known/jwks.json';
const PUBLIC_MEMBERS = ['alg', 'crv', 'e', 'kid', 'kty', 'n', 'use', 'x', 'y'];

describe.each(adapters)('jwksHandler on $name', (fixture) => {
  let app: RunningApp | undefined;
  let keySet: KeySet;

  beforeEach(async () => {
    keySet = createKeySet({
      signingKey: await generateSigningKey('ES256'),
      verificationKeys: [await generateSigningKey('EdDSA'), await generateSigningKey('HS256')],
    });
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const start = async (handler = jwksHandler(keySet)) => {
    app = await fixture.start(createToolkit(), [{ method: 'GET', path: PATH, handler }]);
    return `${app.url}${PATH}`;
  };

  it('serves the public keys only, as application/jwk-set+json with cache headers', async () => {
    const url = await start();
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(JWKS_CONTENT_TYPE);
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    expect(response.headers.get('etag')).toMatch(/^"[\w-]{27}"$/);
    const body = (await response.json()) as { keys: Record<string, unknown>[] };
    expect(Object.keys(body)).toEqual(['keys']);
    expect(body.keys.map((key) => key.kid)).toEqual(
      keySet.keys.filter((key) => key.alg !== 'HS256').map((key) => key.kid),
    );
    for (const key of body.keys) {
      for (const member of Object.keys(key)) expect(PUBLIC_MEMBERS).toContain(member);
      expect(key).not.toHaveProperty('d');
      expect(key).not.toHaveProperty('k');
    }
    expect(body.keys.map((key) => key.kty)).toEqual(['EC', 'OKP']);
  });

  it('answers 304 to a matching If-None-Match and changes the ETag on rotation', async () => {
    const url = await start(jwksHandler(keySet, { maxAge: 60 }));
    const first = await fetch(url);
    const etag = first.headers.get('etag') as string;
    expect(first.headers.get('cache-control')).toBe('public, max-age=60');
    const again = await fetch(url, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect(await again.text()).toBe('');

    const next = await generateSigningKey('RS256');
    keySet.rotate(next);
    const rotated = await fetch(url, { headers: { 'if-none-match': etag } });
    expect(rotated.status).toBe(200);
    expect(rotated.headers.get('etag')).not.toBe(etag);
    const body = (await rotated.json()) as { keys: { kid: string; kty: string }[] };
    expect(body.keys[0]).toMatchObject({ kid: next.kid, kty: 'RSA' });
    expect(body.keys).toHaveLength(3);
  });
});

describe('jwksHandler options', () => {
  it('refuses a negative or fractional maxAge', async () => {
    const keySet = createKeySet({ signingKey: await generateSigningKey('ES256') });
    expect(() => jwksHandler(keySet, { maxAge: -1 })).toThrow(/maxAge/);
    expect(() => jwksHandler(keySet, { maxAge: 1.5 })).toThrow(/maxAge/);
  });
});
