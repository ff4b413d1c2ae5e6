import {
  createAccessTokenSigner,
  createAccessTokenVerifier,
  createKeySet,
  generateSigningKey,
} from '@org/auth';
import { createHealthChecks } from '@org/observability';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TestingError } from '../errors/testing-error.js';
import { createTestClock } from './test-clock.js';

const START = Date.parse('2030-01-01T00:00:00Z');

describe('createTestClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts at the given instant and only moves when told', () => {
    const clock = createTestClock(new Date(START));
    expect(clock.now()).toBe(START);
    expect(clock.now()).toBe(START);
    expect(clock.advance(1500)).toBe(START + 1500);
    expect(clock.now()).toBe(START + 1500);
    clock.set('2029-12-31T23:59:00Z');
    expect(clock.now()).toBe(START - 60_000);
    expect(clock.followingFakeTimers).toBe(false);
  });

  it('accepts milliseconds, ISO strings and an options object', () => {
    expect(createTestClock(START).now()).toBe(START);
    expect(createTestClock('2030-01-01T00:00:00Z').now()).toBe(START);
    expect(createTestClock({ start: START }).now()).toBe(START);
    const before = Date.now();
    const now = createTestClock().now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });

  it('refuses a backwards advance and times that are not times, with a stable code', () => {
    const clock = createTestClock(START);
    expect(() => clock.advance(-1)).toThrow(TestingError);
    expect(() => clock.advance(Number.NaN)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_TIME' }),
    );
    expect(() => clock.set('not a date')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_TIME' }),
    );
    expect(() => createTestClock(Number.POSITIVE_INFINITY)).toThrow(TestingError);
    expect(clock.now()).toBe(START);
  });

  it('follows vitest fake timers while they are on, and its own time otherwise', () => {
    const clock = createTestClock({ start: START, fakeTimers: vi });
    expect(clock.followingFakeTimers).toBe(false);
    expect(clock.now()).toBe(START);

    vi.useFakeTimers({ now: START + 10_000 });
    expect(clock.followingFakeTimers).toBe(true);
    expect(clock.now()).toBe(START + 10_000);
    const fired = vi.fn();
    setTimeout(fired, 5000);
    clock.advance(5000);
    expect(fired).toHaveBeenCalledOnce();
    expect(clock.now()).toBe(START + 15_000);
    expect(Date.now()).toBe(START + 15_000);
    clock.set(START);
    expect(Date.now()).toBe(START);

    vi.useRealTimers();
    expect(clock.now()).toBe(START);
  });
});

describe('one clock drives every time-dependent part', () => {
  it('expires access tokens for the signer and the verifier at once', async () => {
    const clock = createTestClock(START);
    const keySet = createKeySet({ signingKey: await generateSigningKey('ES256') });
    const options = { keySet, issuer: 'https://api.test', audience: 'api', clock };
    const signer = createAccessTokenSigner({ ...options, expiresIn: 60 });
    const verifier = createAccessTokenVerifier({ ...options, clockTolerance: 0, cache: false });
    const { token, claims } = await signer.sign({ subject: 'u1' });
    expect(claims.iat).toBe(START / 1000);
    await expect(verifier.verify(token)).resolves.toMatchObject({ sub: 'u1' });
    clock.advance(60_000);
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'ERR_TOKEN_EXPIRED' });
  });

  it('ages the health-check cache', async () => {
    const clock = createTestClock(START);
    let runs = 0;
    const health = createHealthChecks({ checks: { db: () => void runs++ }, cacheMs: 1000, clock });
    await health.check();
    await health.check();
    expect(runs).toBe(1);
    clock.advance(1000);
    await health.check();
    expect(runs).toBe(2);
  });
});
