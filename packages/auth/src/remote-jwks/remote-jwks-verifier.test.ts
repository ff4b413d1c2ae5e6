import { generateKeyPairSync, sign } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Clock,
  ConfigurationError,
  type SecurityEvent,
  ServiceUnavailableError,
} from '@org/core';
import { type JWK, SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type IssuerKey, issuerKey } from '../../test/helpers.js';
import { TokenError } from '../tokens/types.js';
import {
  createRemoteJwksVerifier,
  type RemoteJwksVerifierOptions,
} from './remote-jwks-verifier.js';

const ISSUER = 'https://id.example.test/';
const AUDIENCE = 'https://api.example.test';

/** A JWKS server on 127.0.0.1:0 that counts requests and can be told to hang or fail. */
let server: Server;
let jwksUri: string;
let published: IssuerKey[] = [];
/** Entries served after the published keys, as they are. */
let extraEntries: unknown[] = [];
let requests = 0;
let hang = false;
let status = 200;

let now = Date.UTC(2030, 0, 1);
const clock: Clock & { advance(ms: number): void } = {
  now: () => now,
  advance: (ms) => void (now += ms),
};

const token = (key: IssuerKey, claims: Record<string, unknown> = {}, typ = 'at+jwt') =>
  new SignJWT({
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'u1',
    jti: 'j1',
    iat: Math.floor(now / 1000),
    exp: Math.floor(now / 1000) + 600,
    ...claims,
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ })
    .sign(key.privateKey);

const verifierOptions = (
  extra: Partial<RemoteJwksVerifierOptions> = {},
): RemoteJwksVerifierOptions => ({
  issuers: [{ issuer: ISSUER, jwksUri }],
  audience: AUDIENCE,
  clock,
  cacheMaxAge: 600_000,
  cooldown: 30_000,
  ...extra,
});

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e,
  );

beforeEach(async () => {
  published = [await issuerKey('k1'), await issuerKey('r1', 'RS256')];
  extraEntries = [];
  requests = 0;
  hang = false;
  status = 200;
  server = createServer((_req, res) => {
    requests++;
    if (hang) return; // never answers
    res.statusCode = status;
    res.setHeader('content-type', 'application/jwk-set+json');
    res.end(JSON.stringify({ keys: [...published.map((key) => key.jwk), ...extraEntries] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
});

afterEach(async () => {
  vi.useRealTimers();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('createRemoteJwksVerifier', () => {
  it('verifies tokens of an allowed issuer with one JWKS fetch for many tokens', async () => {
    const verifier = createRemoteJwksVerifier(verifierOptions());
    const [es, rs] = published as [IssuerKey, IssuerKey];
    await expect(verifier.verify(await token(es))).resolves.toMatchObject({
      sub: 'u1',
      iss: ISSUER,
    });
    await expect(verifier.verify(await token(rs, { sub: 'u2' }))).resolves.toMatchObject({
      sub: 'u2',
    });
    expect(requests).toBe(1);
  });

  it('rejects other issuers before fetching anything, and iss as an array', async () => {
    const verifier = createRemoteJwksVerifier(verifierOptions());
    const key = published[0] as IssuerKey;
    const other = await token(key, { iss: 'https://evil.test/' });
    expect(await rejection(verifier.verify(other))).toMatchObject({ code: 'ERR_TOKEN_INVALID' });
    expect(await rejection(verifier.verify(await token(key, { iss: [ISSUER] })))).toBeInstanceOf(
      TokenError,
    );
    expect(await rejection(verifier.verify('garbage'))).toBeInstanceOf(TokenError);
    expect(requests).toBe(0);
  });

  it('refetches for an unknown kid at most once per cooldown, and picks up a rotated-in key', async () => {
    const verifier = createRemoteJwksVerifier(verifierOptions());
    await verifier.verify(await token(published[0] as IssuerKey));
    const rotatedIn = await issuerKey('k2');
    const unknown = await token(rotatedIn);
    expect(await rejection(verifier.verify(unknown))).toMatchObject({ code: 'ERR_TOKEN_INVALID' });
    expect(requests).toBe(1); // inside the cooldown of the first fetch
    published.push(rotatedIn);
    clock.advance(30_000);
    await expect(verifier.verify(unknown)).resolves.toMatchObject({ sub: 'u1' });
    expect(requests).toBe(2);
    // A flood of random kids costs at most one request per cooldown.
    for (let i = 0; i < 5; i++)
      await rejection(verifier.verify(await token(await issuerKey(`x${i}`))));
    expect(requests).toBe(2);
  });

  it('publishes keys.rotated once for each refresh that changed the published keys', async () => {
    const events: SecurityEvent[] = [];
    const listen = (event: unknown) => void events.push(event as SecurityEvent);
    subscribe('org:security', listen);
    try {
      const verifier = createRemoteJwksVerifier(verifierOptions({ cacheMaxAge: 60_000 }));
      const [es, rs] = published as [IssuerKey, IssuerKey];
      await verifier.verify(await token(es)); // the first fetch: nothing rotated
      clock.advance(60_000);
      await verifier.verify(await token(es)); // refetched, unchanged
      const next = await issuerKey('k2');
      published = [rs, next];
      clock.advance(60_000);
      await verifier.verify(await token(next));
      expect(requests).toBe(3);
      expect(events).toEqual([
        {
          event: 'keys.rotated',
          time: now,
          source: 'jwks',
          jwks_uri: jwksUri,
          added_kids: ['k2'],
          retired_kids: ['k1'],
        },
      ]);
    } finally {
      unsubscribe('org:security', listen);
    }
  });

  it('refetches after cacheMaxAge, and a key dropped by the issuer stops verifying', async () => {
    const verifier = createRemoteJwksVerifier(verifierOptions({ cacheMaxAge: 60_000 }));
    const [es, rs] = published as [IssuerKey, IssuerKey];
    const esToken = await token(es);
    await verifier.verify(esToken);
    await verifier.verify(await token(rs));
    published = [rs];
    clock.advance(59_000);
    await expect(verifier.verify(esToken)).resolves.toBeDefined(); // cached JWKS and token
    expect(verifier.cachedClaims?.(esToken)).toMatchObject({ sub: expect.any(String) });
    expect(requests).toBe(1);
    clock.advance(1_000);
    // Never longer than the JWKS it was checked against.
    expect(verifier.cachedClaims?.(esToken)).toBeUndefined();
    expect(await rejection(verifier.verify(esToken))).toMatchObject({ code: 'ERR_TOKEN_INVALID' });
    expect(requests).toBe(2);
  });

  it('keeps only the key algorithm and public members: a relabelled or HS256 token fails', async () => {
    const verifier = createRemoteJwksVerifier(verifierOptions());
    const es = published[0] as IssuerKey;
    const [, payload, signature] = (await token(es)).split('.');
    const relabel = (alg: string) =>
      `${Buffer.from(JSON.stringify({ alg, kid: es.kid, typ: 'at+jwt' })).toString('base64url')}.${payload}.${signature}`;
    for (const alg of ['ES384', 'RS256', 'HS256', 'none']) {
      expect(await rejection(verifier.verify(relabel(alg)))).toBeInstanceOf(TokenError);
    }
    expect(await rejection(verifier.verify(await token(es, {}, 'JWT')))).toBeInstanceOf(TokenError);
  });

  it.each(['PS256', 'RS512', 'ES384', 'ES512', 'EdDSA', 'Ed25519'])(
    'verifies %s with a key published without alg, and only under that algorithm',
    async (alg) => {
      const key = await issuerKey('any', alg);
      const { alg: _published, ...withoutAlg } = key.jwk;
      published = [{ ...key, jwk: withoutAlg }];
      const verifier = createRemoteJwksVerifier(
        verifierOptions({ issuers: [{ issuer: ISSUER, jwksUri, algorithms: [alg, 'ES256'] }] }),
      );
      // Several signatures, so ES512's R and S (66 bytes, top byte 0 or 1) take every DER shape.
      for (let i = 0; i < 16; i++) {
        const sub = `u${i}`;
        await expect(verifier.verify(await token(key, { sub }))).resolves.toMatchObject({ sub });
      }
      const good = await token(key);
      const [, payload, signature] = good.split('.');
      const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: 'any', typ: 'at+jwt' }));
      const relabelled = `${header.toString('base64url')}.${payload}.${signature}`;
      expect(await rejection(verifier.verify(relabelled))).toBeInstanceOf(TokenError);
    },
  );

  it('refuses an RSA key shorter than 2048 bits (RFC 7518 3.3)', async () => {
    // jose refuses to make or use such a key, so this one is made and used with node:crypto.
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'weak', alg: 'RS256' } as JWK;
    published = [{ kid: 'weak', alg: 'RS256', privateKey: {} as CryptoKey, jwk, privateJwk: {} }];
    const verifier = createRemoteJwksVerifier(verifierOptions());
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const at = Math.floor(now / 1000);
    const input = `${b64({ alg: 'RS256', kid: 'weak', typ: 'at+jwt' })}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: 'u1', jti: 'j1', iat: at, exp: at + 600 })}`;
    const weak = `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
    expect(await rejection(verifier.verify(weak))).toMatchObject({ code: 'ERR_TOKEN_INVALID' });
    expect(requests).toBe(1);
  });

  it('accepts typ JWT when typ is false, still checking the audience', async () => {
    const verifier = createRemoteJwksVerifier(verifierOptions({ typ: false }));
    const es = published[0] as IssuerKey;
    await expect(verifier.verify(await token(es, {}, 'JWT'))).resolves.toBeDefined();
    expect(
      await rejection(verifier.verify(await token(es, { aud: 'spa-client' }, 'JWT'))),
    ).toBeInstanceOf(TokenError);
  });

  it('times out a hanging JWKS request and fails closed with a 503', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    hang = true;
    const verifier = createRemoteJwksVerifier(verifierOptions({ timeout: 2_000 }));
    const pending = rejection(verifier.verify(await token(published[0] as IssuerKey)));
    await vi.waitUntil(() => requests === 1, { interval: 1, timeout: 5_000 });
    await vi.advanceTimersByTimeAsync(2_000);
    const error = await pending;
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({ status: 503, code: 'ERR_JWKS_UNAVAILABLE' });
  });

  it('refuses unsafe configuration at start-up', () => {
    const make = (extra: Partial<RemoteJwksVerifierOptions>) => () =>
      createRemoteJwksVerifier(verifierOptions(extra));
    expect(make({ issuers: [{ issuer: ISSUER, jwksUri: 'http://id.example.test/jwks' }] })).toThrow(
      /https/,
    );
    expect(make({ issuers: [{ issuer: ISSUER, jwksUri, algorithms: ['HS256'] }] })).toThrow(
      /never HS/,
    );
    expect(make({ issuers: [] })).toThrow(ConfigurationError);
    expect(make({ timeout: 0 })).toThrow(/timeout/);
  });
});
