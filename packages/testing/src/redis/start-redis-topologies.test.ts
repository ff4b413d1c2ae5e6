import { describe, expect, it } from 'vitest';
import { RedisHarnessError, RedisNotInstalledError } from './redis-errors.js';
import { startRedisCluster } from './start-redis-cluster.js';
import { startRedisSentinel } from './start-redis-sentinel.js';

// The topologies themselves run in every Redis store's suite (security, auth); these
// are the failures a missing or broken installation gives.
describe('Redis topologies without Redis', () => {
  it('say which binary is missing and how to install it', async () => {
    const cluster = await startRedisCluster({ binary: 'no-such-redis-server' }).catch(
      (error: unknown) => error,
    );
    expect(cluster).toBeInstanceOf(RedisNotInstalledError);
    expect(cluster).toMatchObject({ code: 'ERR_REDIS_NOT_INSTALLED' });
    expect((cluster as Error).message).toMatch(
      /no-such-redis-server .*apt-get install redis-server/,
    );

    const cli = await startRedisCluster({ cliBinary: 'no-such-redis-cli' }).catch(
      (error: unknown) => error,
    );
    expect(cli).toBeInstanceOf(RedisNotInstalledError);
    expect((cli as Error).message).toMatch(/^no-such-redis-cli /);

    await expect(startRedisSentinel({ binary: 'no-such-redis-server' })).rejects.toBeInstanceOf(
      RedisNotInstalledError,
    );
  });

  it('report a server that exits at start as start-failed, with its output', async () => {
    // `false` exits at once with status 1, like a redis-server that cannot bind.
    const error = await startRedisSentinel({ binary: 'false' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisHarnessError);
    expect(error).toMatchObject({ code: 'ERR_REDIS_HARNESS', reason: 'start-failed' });
  });
});
