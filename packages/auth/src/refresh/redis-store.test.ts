import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createRefreshTokenManager, RedisRefreshTokenStore, RefreshTokenError } from '@org/auth';
import { ConfigurationError, ServiceUnavailableError } from '@org/core';
import {
  type RedisServer,
  type RedisTopology,
  redisTopologies,
  startRedis,
} from '@org/test-support';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY, manualClock } from '../../test/helpers.js';

/** The client options the README recommends: a command fails fast instead of waiting for Redis. */
const FAIL_FAST = { maxRetriesPerRequest: 1, commandTimeout: 1000, connectTimeout: 2000 };

const topologies = redisTopologies();

describe.each(topologies)('RedisRefreshTokenStore on $name Redis', (topology) => {
  it('keeps one hash-tagged key per family and one per user, each with a TTL, never the token', async () => {
    const { client } = topology;
    const clock = manualClock();
    const store = new RedisRefreshTokenStore({ client, prefix: 'keys:' });
    const manager = createRefreshTokenManager({ store, clock });
    const first = await manager.issue('user-1');
    clock.advance(DAY);
    const second = await manager.rotate(first.token);

    const keys = (await topology.keys('keys:*')).sort();
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
    const store = new RedisRefreshTokenStore({ client: topology.client, prefix: 'flush:' });
    const manager = createRefreshTokenManager({ store });
    const { token } = await manager.issue('u1');
    await Promise.all((await topology.masters()).map((admin) => admin.script('FLUSH')));
    await expect(manager.rotate(token)).resolves.toMatchObject({ userId: 'u1' });
  });

  it('refuses a prefix that would break the per-family hash tag', () => {
    expect(
      () => new RedisRefreshTokenStore({ client: topology.client, prefix: 'app{x}:' }),
    ).toThrow(ConfigurationError);
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

describe('RedisRefreshTokenStore waitForReplicas', () => {
  const lone = () => (topologies.find((t) => t.name === 'single') as RedisTopology).client;

  it('is checked at construction, with messages that name the option', () => {
    const client = lone();
    const make = (waitForReplicas: unknown) => () =>
      new RedisRefreshTokenStore({ client, waitForReplicas: waitForReplicas as never });
    expect(make({ replicas: 0 })).toThrow(/waitForReplicas\.replicas/);
    expect(make({ timeoutMs: 1.5 })).toThrow(/waitForReplicas\.timeoutMs/);
    expect(make({ onTimeout: 'retry' })).toThrow(/waitForReplicas\.onTimeout/);
    expect(make(1)).toThrow(ConfigurationError);
    const withoutPipeline = {
      evalsha: client.evalsha.bind(client),
      eval: client.eval.bind(client),
    };
    expect(
      () => new RedisRefreshTokenStore({ client: withoutPipeline, waitForReplicas: {} }),
    ).toThrow(/waitForReplicas.*pipeline/);
    // The test clients abort commands after 1000 ms: a longer WAIT could never answer.
    expect(make({ timeoutMs: 1000 })).toThrow(
      /timeoutMs` \(1000\) must be below .*commandTimeout \(1000\)/,
    );
    expect(make({ timeoutMs: 999 })).not.toThrow();
  });

  it('refuses a rotation no replica acknowledged with a 503; the presented token is then spent', async () => {
    const store = new RedisRefreshTokenStore({
      client: lone(),
      prefix: `lone${randomUUID()}:`,
      waitForReplicas: { replicas: 1, timeoutMs: 20 },
    });
    const manager = createRefreshTokenManager({ store });
    const { token } = await manager.issue('u1');
    const error = await manager.rotate(token).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({ status: 503, code: 'ERR_REFRESH_STORE_UNAVAILABLE' });
    expect((error as Error).cause).toMatchObject({
      code: 'ERR_REDIS_NOT_REPLICATED',
      acknowledged: 0,
    });
    // What a client that retries sees: the master spent the token, so it is reuse (and
    // the family is revoked); a refusal needs no acknowledgement and is answered at once.
    await expect(manager.rotate(token)).rejects.toMatchObject({ code: 'ERR_REFRESH_REUSED' });
  });

  it("answers without the acknowledgement with onTimeout: 'accept'", async () => {
    const store = new RedisRefreshTokenStore({
      client: lone(),
      prefix: `accept${randomUUID()}:`,
      waitForReplicas: { replicas: 1, timeoutMs: 20, onTimeout: 'accept' },
    });
    const manager = createRefreshTokenManager({ store });
    const { token } = await manager.issue('u1');
    const next = await manager.rotate(token);
    expect(await manager.revoke(next.token)).toBe(true);
  });
});
