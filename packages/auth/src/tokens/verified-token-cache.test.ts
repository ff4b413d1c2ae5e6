import type { Clock } from '@org/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { createKeySet, type KeySet } from '../keys/key-set.js';
import { generateSigningKey } from '../keys/signing-key.js';
import { createAccessTokenSigner } from './sign-access-token.js';
import { TokenError } from './types.js';
import { createAccessTokenVerifier } from './verify-access-token.js';

const options = { issuer: 'https://api.example.test', audience: 'api' };

/** A clock the test moves by hand. */
function fakeClock(start = Date.UTC(2030, 0, 1)): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, advance: (ms) => void (now += ms) };
}

let keySet: KeySet;
let clock: ReturnType<typeof fakeClock>;
/** A verifier of the test's key set and clock; `extra` options on top. */
const verifierWith = (extra: Partial<Parameters<typeof createAccessTokenVerifier>[0]> = {}) =>
  createAccessTokenVerifier({ keySet, ...options, clock, ...extra });
const sign = async (expiresIn = 60) =>
  (await createAccessTokenSigner({ keySet, ...options, clock }).sign({ subject: 'u1', expiresIn }))
    .token;

beforeEach(async () => {
  keySet = createKeySet({ signingKey: await generateSigningKey('ES256') });
  clock = fakeClock();
});

describe('verified-token cache', () => {
  it('answers a repeated token from the cache', async () => {
    const verifier = verifierWith();
    const token = await sign();
    const first = await verifier.verify(token);
    expect(verifier.cacheSize).toBe(1);
    // Same object: no signature check, no parsing.
    expect(await verifier.verify(token)).toBe(first);
  });

  it('cachedClaims answers synchronously what verify cached, and nothing else', async () => {
    const verifier = verifierWith();
    const token = await sign(60);
    expect(verifier.cachedClaims?.(token)).toBeUndefined();
    expect(verifier.cachedClaims?.('not.a.token')).toBeUndefined();
    const claims = await verifier.verify(token);
    expect(verifier.cachedClaims?.(token)).toBe(claims);
    clock.advance(60_000); // exp
    expect(verifier.cachedClaims?.(token)).toBeUndefined();
    const off = verifierWith({ cache: false });
    clock.advance(-60_000);
    await off.verify(token);
    expect(off.cachedClaims?.(token)).toBeUndefined();
  });

  it('never answers from the cache at or past exp, even inside the clock tolerance', async () => {
    const verifier = verifierWith();
    const token = await sign(60);
    const first = await verifier.verify(token);
    clock.advance(60_000); // exactly exp
    const second = await verifier.verify(token); // accepted by the 30 s tolerance, but verified again
    expect(second).not.toBe(first);
    expect(verifier.cacheSize).toBe(0); // and not cached again
    clock.advance(31_000);
    const error = await verifier.verify(token).catch((e: unknown) => e);
    expect((error as TokenError).code).toBe('ERR_TOKEN_EXPIRED');
  });

  it('with no tolerance, an expired cached token is EXPIRED at once', async () => {
    const verifier = verifierWith({ clockTolerance: 0 });
    const token = await sign(60);
    await verifier.verify(token);
    clock.advance(59_999);
    await expect(verifier.verify(token)).resolves.toBeDefined();
    clock.advance(1);
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'ERR_TOKEN_EXPIRED' });
  });

  it('keeps only successes, keyed by the exact string', async () => {
    const verifier = verifierWith();
    const token = await sign();
    await expect(verifier.verify(`${token}x`)).rejects.toBeInstanceOf(TokenError);
    await expect(verifier.verify(`${token.slice(0, -2)}AA`)).rejects.toBeInstanceOf(TokenError);
    expect(verifier.cacheSize).toBe(0);
    await verifier.verify(token);
    await expect(verifier.verify(` ${token}`)).rejects.toBeInstanceOf(TokenError);
    expect(verifier.cacheSize).toBe(1);
  });

  it('never serves a cached token for another one with the same signature', async () => {
    const verifier = verifierWith();
    const token = await sign();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    await verifier.verify(token);
    // The payload of another (validly signed) token under this token's signature.
    const other = (await sign(120)).split('.')[1] as string;
    const forged = `${header}.${other}.${signature}`;
    expect(verifier.cachedClaims?.(forged)).toBeUndefined();
    await expect(verifier.verify(forged)).rejects.toMatchObject({ code: 'ERR_TOKEN_INVALID' });
    // Nor for a prefix that ends in the same signature.
    expect(verifier.cachedClaims?.(`x${header}.${payload}.${signature}`)).toBeUndefined();
    expect(verifier.cachedClaims?.(token)).toBeDefined();
    expect(verifier.cacheSize).toBe(1);
  });

  it('is emptied when a key is retired or removed, so a removed key fails at once', async () => {
    const verifier = verifierWith();
    const oldKid = keySet.signingKey?.kid as string;
    const token = await sign();
    await verifier.verify(token);
    keySet.add(await generateSigningKey('ES256'));
    expect(verifier.cacheSize).toBe(1); // adding a key changes nothing verified
    keySet.rotate(await generateSigningKey('ES256'));
    expect(verifier.cacheSize).toBe(0);
    await verifier.verify(token);
    expect(verifier.cacheSize).toBe(1);
    keySet.remove(oldKid);
    expect(verifier.cacheSize).toBe(0);
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'ERR_TOKEN_INVALID' });
  });

  it('is bounded, evicting the least recently used', async () => {
    const verifier = verifierWith({ cache: { maxEntries: 2 } });
    const [a, b, c] = [await sign(), await sign(), await sign()];
    const claimsA = await verifier.verify(a);
    const claimsB = await verifier.verify(b);
    expect(await verifier.verify(a)).toBe(claimsA); // a is now recently used
    await verifier.verify(c); // evicts b
    expect(verifier.cacheSize).toBe(2);
    expect(await verifier.verify(a)).toBe(claimsA);
    expect(await verifier.verify(b)).not.toBe(claimsB);
  });

  it('keeps giving recently used tokens a second chance over many evictions', async () => {
    const verifier = verifierWith({ cache: { maxEntries: 3 } });
    const [a, b, c, d, e, f] = await Promise.all(Array.from({ length: 6 }, () => sign()));
    const claims = new Map<string, unknown>();
    const verify = async (token: string) => claims.set(token, await verifier.verify(token));
    for (const token of [a, b, c]) await verify(token as string);
    await verifier.verify(a as string); // a used
    await verify(d as string); // a gets a second chance; b goes
    await verify(e as string); // c goes
    await verifier.verify(a as string); // a used again
    await verify(f as string); // a again kept; d goes
    expect(verifier.cacheSize).toBe(3);
    for (const token of [a, e, f]) {
      expect(await verifier.verify(token as string)).toBe(claims.get(token as string));
    }
    for (const token of [b, c, d]) {
      expect(await verifier.verify(token as string)).not.toBe(claims.get(token as string));
    }
  });

  it('drops tokens not presented for maxIdleMs below the bound, keeping those in use', async () => {
    const verifier = verifierWith({ cache: { maxEntries: 100, maxIdleMs: 1000 } });
    const [a, b, c, d] = await Promise.all(Array.from({ length: 4 }, () => sign(600)));
    const claimsA = await verifier.verify(a as string);
    const claimsB = await verifier.verify(b as string);
    clock.advance(600);
    expect(await verifier.verify(a as string)).toBe(claimsA); // presented: not idle
    clock.advance(600);
    // Each insertion looks at two entries: b sat idle 1200 ms and goes, a (600 ms) stays.
    await verifier.verify(c as string);
    expect(verifier.cacheSize).toBe(2);
    expect(await verifier.verify(a as string)).toBe(claimsA);
    clock.advance(1000);
    await verifier.verify(d as string); // a and c idle for 1000 ms: both go
    expect(verifier.cacheSize).toBe(1);
    const again = await verifier.verify(b as string); // verified once more, then cached
    expect(again).not.toBe(claimsB);
    expect(again).toEqual(claimsB);
    expect(await verifier.verify(b as string)).toBe(again);
  });

  it('can be turned off', async () => {
    const verifier = verifierWith({ cache: false });
    const token = await sign();
    const first = await verifier.verify(token);
    expect(await verifier.verify(token)).not.toBe(first);
    expect(await verifier.verify(token)).toEqual(first);
    expect(verifier.cacheSize).toBe(0);
  });

  it('refuses a bad size at start-up, naming the option', () => {
    expect(() =>
      createAccessTokenVerifier({ keySet, ...options, cache: { maxEntries: 0 } }),
    ).toThrow(/cache\.maxEntries/);
    expect(() =>
      createAccessTokenVerifier({ keySet, ...options, cache: { maxIdleMs: 0 } }),
    ).toThrow(/cache\.maxIdleMs/);
    expect(() => createAccessTokenVerifier({ keySet, ...options, clockTolerance: -1 })).toThrow(
      /clockTolerance/,
    );
    expect(() => createAccessTokenVerifier({ keySet, ...options, maxTokenLength: 10 })).toThrow(
      /maxTokenLength/,
    );
  });
});
