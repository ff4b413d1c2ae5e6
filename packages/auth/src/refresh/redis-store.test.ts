import { once } from 'node:events';
import { createRefreshTokenManager, RedisRefreshTokenStore, RefreshTokenError } from '@org/auth';
import { ConfigurationError, ServiceUnavailableError } from '@org/core';
import { type RedisServer, startRedis } from '@org/test-support';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY, manualClock } from '../../test/helpers.js';

/** The client options the README recommends: a command fails fast instead of waiting for Redis. */
const FAIL_FAST = { maxRetriesPerRequest: 1, commandTimeout: 1000, connectTimeout: 2000 };

let redis: RedisServer;
let client: Redis;

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url, FAIL_FAST);
});
afterAll(async () => {
  client.disconnect();
  await redis.stop();
});

describe('RedisRefreshTokenStore', () => {
  it('keeps one hash-tagged key per family and one per user, each with a TTL, never the token', async () => {
    const clock = manualClock();
    const store = new RedisRefreshTokenStore({ client, prefix: 'keys:' });
    const manager = createRefreshTokenManager({ store, clock });
    const first = await manager.issue('user-1');
    clock.advance(DAY);
    const second = await manager.rotate(first.token);

    const keys = (await client.keys('keys:*')).sort();
    expect(keys).toEqual([`keys:f:{${first.familyId}}`, 'keys:u:{user-1}']);
    expect(store.familyKey(first.familyId)).toBe(keys[0]);
    // The family lives as long as its current token (7 days after the rotation).
    const familyTtl = await client.pttl(keys[0] as string);
    expect(familyTtl).toBeGreaterThan(7 * DAY - 60_000);
    expect(familyTtl).toBeLessThanOrEqual(7 * DAY);
    // The user index lives as long as its newest family (30 days).
    expect(await client.pttl('keys:u:{user-1}')).toBeGreaterThan(29 * DAY);

    const stored = JSON.stringify(await client.hgetall(keys[0] as string));
    expect(stored).not.toContain(first.token.split('.')[1]);
    expect(stored).not.toContain(second.token.split('.')[1]);
  });

  it('reloads its scripts after the server forgot them (restart, failover)', async () => {
    const store = new RedisRefreshTokenStore({ client, prefix: 'flush:' });
    const manager = createRefreshTokenManager({ store });
    const { token } = await manager.issue('u1');
    await client.script('FLUSH');
    await expect(manager.rotate(token)).resolves.toMatchObject({ userId: 'u1' });
  });

  it('refuses a prefix that would break the per-family hash tag', () => {
    expect(() => new RedisRefreshTokenStore({ client, prefix: 'app{x}:' })).toThrow(
      ConfigurationError,
    );
  });
});

describe('RedisRefreshTokenStore when Redis goes down', () => {
  let server: RedisServer;
  let fragile: Redis;

  beforeAll(async () => {
    server = await startRedis();
    fragile = new Redis(server.url, FAIL_FAST);
    fragile.on('error', () => {}); // Reconnect noise; the store reports failures itself.
  });
  afterAll(async () => {
    fragile.disconnect();
    await server.stop();
  });

  it('fails closed with a 503 for every operation, then recovers', async () => {
    const manager = createRefreshTokenManager({
      store: new RedisRefreshTokenStore({ client: fragile }),
    });
    const { token } = await manager.issue('u1');
    await server.kill();

    const outcomes = await Promise.allSettled([
      manager.rotate(token),
      manager.issue('u1'),
      manager.revoke(token),
      manager.revokeAllForUser('u1'),
    ]);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason;
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect(error).toMatchObject({ status: 503, code: 'ERR_REFRESH_STORE_UNAVAILABLE' });
      expect(error.detail).not.toMatch(/redis|ECONNREFUSED|connect/i);
    }

    await server.restart();
    if (fragile.status !== 'ready') await once(fragile, 'ready');
    // The data did not survive (no persistence in tests): the old token is simply invalid.
    await expect(manager.rotate(token)).rejects.toBeInstanceOf(RefreshTokenError);
    const fresh = await manager.issue('u1');
    await expect(manager.rotate(fresh.token)).resolves.toMatchObject({ userId: 'u1' });
  });
});
