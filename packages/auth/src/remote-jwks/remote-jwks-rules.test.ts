import { createRemoteJwksVerifier, type RemoteJwksVerifierOptions, TokenError } from '@org/auth';
import { ConfigurationError, ServiceUnavailableError } from '@org/core';
import { SignJWT } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { DAY, type IssuerKey, issuerKey, manualClock } from '../../test/helpers.js';

/**
 * The start-up checks, the staleness bound and the entry rules of the remote verifier,
 * with the JWKS served by an in-process `fetch` and time from a manual clock.
 */

const ISSUER = 'https://id.example.test/';
const AUDIENCE = 'https://api.example.test';
const JWKS_URI = 'https://id.example.test/jwks.json';

let clock = manualClock();
let entries: unknown[] = [];
let status = 200;
let fetches = 0;
const fetchJwks: typeof globalThis.fetch = async () => {
  fetches++;
  return new Response(JSON.stringify({ keys: entries }), { status });
};

const verifierOptions = (extra: Partial<RemoteJwksVerifierOptions> = {}) => ({
  issuers: [
    { issuer: ISSUER, jwksUri: JWKS_URI, algorithms: ['ES256', 'ES384', 'ES512', 'RS256'] },
  ],
  audience: AUDIENCE,
  clock,
  fetch: fetchJwks,
  ...extra,
});

const token = (key: IssuerKey, claims: Record<string, unknown> = {}) => {
  const seconds = Math.floor(clock.now() / 1000);
  return new SignJWT({
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'u1',
    jti: `j${seconds}`,
    iat: seconds,
    exp: seconds + 600,
    ...claims,
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
    .sign(key.privateKey);
};

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

beforeEach(() => {
  clock = manualClock();
  entries = [];
  status = 200;
  fetches = 0;
});

describe('createRemoteJwksVerifier start-up checks', () => {
  const make = (extra: Record<string, unknown>) => () =>
    createRemoteJwksVerifier({ ...verifierOptions(), ...extra } as RemoteJwksVerifierOptions);

  it.each([undefined, '', [], [''], ['api', 42]])(
    'refuses audience %j, naming the option',
    (audience) => {
      expect(make({ audience })).toThrow(ConfigurationError);
      expect(make({ audience })).toThrow(/^audience must be a non-empty string/);
    },
  );

  it('refuses a missing or empty issuer and a missing, relative or insecure jwksUri', () => {
    const issuers = (entry: Record<string, unknown>) => make({ issuers: [entry] });
    expect(issuers({ jwksUri: JWKS_URI })).toThrow(
      /^issuers\[0\]\.issuer must be a non-empty string/,
    );
    expect(issuers({ issuer: '', jwksUri: JWKS_URI })).toThrow(/issuers\[0\]\.issuer/);
    expect(issuers({ issuer: ISSUER })).toThrow(/^issuers\[0\]\.jwksUri must be the absolute URL/);
    expect(issuers({ issuer: ISSUER, jwksUri: '/jwks.json' })).toThrow(/issuers\[0\]\.jwksUri/);
    expect(issuers({ issuer: ISSUER, jwksUri: 'http://id.example.test/jwks' })).toThrow(/https/);
    expect(issuers({ issuer: ISSUER, jwksUri: JWKS_URI, algorithms: [] })).toThrow(/algorithms/);
    const twice = { issuer: ISSUER, jwksUri: JWKS_URI };
    expect(make({ issuers: [twice, twice] })).toThrow(/issuers\[1\]\.issuer .* twice/);
    expect(make({ issuers: undefined })).toThrow(ConfigurationError);
    expect(make({ typ: '' })).toThrow(/^typ/);
  });

  it('refuses a maxStaleness that is not positive or shorter than cacheMaxAge', () => {
    expect(make({ maxStaleness: 0 })).toThrow(/^maxStaleness must be a positive number/);
    expect(make({ maxStaleness: Number.NaN })).toThrow(ConfigurationError);
    expect(make({ cacheMaxAge: 600_000, maxStaleness: 599_999 })).toThrow(/at least cacheMaxAge/);
    // A cacheMaxAge past the default staleness raises the default with it.
    expect(make({ cacheMaxAge: 2 * DAY })).not.toThrow();
  });
});

describe('maxStaleness: keys of a failing JWKS are trusted for a bounded time', () => {
  it('keeps the last keys while refreshes fail, up to maxStaleness, then answers 503', async () => {
    const key = await issuerKey('k1');
    entries = [key.jwk];
    const verifier = createRemoteJwksVerifier(verifierOptions({ maxStaleness: 3_600_000 }));
    await expect(verifier.verify(await token(key))).resolves.toMatchObject({ sub: 'u1' });
    status = 500;
    clock.advance(600_000); // cacheMaxAge: the refresh fails and the keys are kept
    await expect(verifier.verify(await token(key))).resolves.toBeDefined();
    expect(fetches).toBe(2);
    clock.advance(3_000_000); // exactly maxStaleness after the last successful fetch
    await expect(verifier.verify(await token(key))).resolves.toBeDefined();
    clock.advance(1);
    const error = await rejection(verifier.verify(await token(key)));
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({ status: 503, code: 'ERR_JWKS_UNAVAILABLE' });
    // The issuer recovers: the next refresh (one cooldown later) restores verification.
    status = 200;
    clock.advance(30_000);
    await expect(verifier.verify(await token(key))).resolves.toBeDefined();
  });

  it('defaults to 24 hours', async () => {
    const key = await issuerKey('k1');
    entries = [key.jwk];
    const verifier = createRemoteJwksVerifier(verifierOptions());
    await verifier.verify(await token(key));
    status = 503;
    clock.advance(DAY);
    await expect(verifier.verify(await token(key))).resolves.toBeDefined();
    clock.advance(1);
    expect(await rejection(verifier.verify(await token(key)))).toMatchObject({
      status: 503,
      code: 'ERR_JWKS_UNAVAILABLE',
    });
  });
});

describe('JWKS entries a remote key set skips (RFC 7517 4.2, 4.3, 4.5, 9.2)', () => {
  it.each(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'])(
    'skips an entry that carries "%s", keeping the others',
    async (member) => {
      const [good, leaked] = [await issuerKey('good'), await issuerKey('leaked', 'RS256')];
      entries = [good.jwk, { ...leaked.jwk, [member]: member === 'oth' ? [] : 'AQAB' }];
      const verifier = createRemoteJwksVerifier(verifierOptions());
      await expect(verifier.verify(await token(good))).resolves.toBeDefined();
      expect(await rejection(verifier.verify(await token(leaked)))).toMatchObject({
        code: 'ERR_TOKEN_INVALID',
      });
    },
  );

  it('skips a published private key, which anyone could sign with', async () => {
    const leaked = await issuerKey('leaked');
    entries = [leaked.privateJwk];
    const verifier = createRemoteJwksVerifier(verifierOptions());
    expect(await rejection(verifier.verify(await token(leaked)))).toBeInstanceOf(TokenError);
  });

  it('skips entries whose use is not sig or whose key_ops lacks verify', async () => {
    const keys = await Promise.all(
      ['enc', 'ops', 'opsString', 'sig', 'verify'].map((kid) => issuerKey(kid)),
    );
    const [enc, ops, opsString, sig, verify] = keys as [
      IssuerKey,
      IssuerKey,
      IssuerKey,
      IssuerKey,
      IssuerKey,
    ];
    entries = [
      { ...enc.jwk, use: 'enc' },
      { ...ops.jwk, key_ops: ['sign', 'encrypt'] },
      { ...opsString.jwk, key_ops: 'verify' },
      sig.jwk,
      { ...verify.jwk, use: undefined, key_ops: ['verify'] },
    ];
    const verifier = createRemoteJwksVerifier(verifierOptions());
    for (const refused of [enc, ops, opsString]) {
      expect(await rejection(verifier.verify(await token(refused)))).toMatchObject({
        code: 'ERR_TOKEN_INVALID',
      });
    }
    await expect(verifier.verify(await token(sig))).resolves.toBeDefined();
    await expect(verifier.verify(await token(verify))).resolves.toBeDefined();
  });

  it('lets neither entry of a duplicated kid verify, and keeps the other keys', async () => {
    const [first, second, other] = [
      await issuerKey('dup'),
      await issuerKey('dup', 'RS256'),
      await issuerKey('other'),
    ];
    entries = [first.jwk, second.jwk, other.jwk];
    const verifier = createRemoteJwksVerifier(verifierOptions());
    for (const duplicate of [first, second]) {
      expect(await rejection(verifier.verify(await token(duplicate)))).toMatchObject({
        code: 'ERR_TOKEN_INVALID',
      });
    }
    await expect(verifier.verify(await token(other))).resolves.toBeDefined();
  });
});

describe('canonical signatures from a remote issuer (RFC 7515 2)', () => {
  it.each([
    ['ES384', undefined, 128],
    ['ES512', undefined, 176],
    ['RS256', 3072, 512],
  ] as const)('rejects a character appended to a %s signature', async (alg, bits, length) => {
    const key = await issuerKey('k', alg, bits);
    entries = [key.jwk];
    const verifier = createRemoteJwksVerifier(verifierOptions({ cache: false }));
    const valid = await token(key);
    expect(valid.split('.')[2]).toHaveLength(length);
    await expect(verifier.verify(valid)).resolves.toBeDefined();
    // A multiple of 4 plus one character: a lenient decoder drops it and the signature verifies.
    for (const extra of ['A', 'w', '-']) {
      expect(await rejection(verifier.verify(`${valid}${extra}`))).toMatchObject({
        code: 'ERR_TOKEN_INVALID',
      });
    }
  });
});
