import { DatabaseSync } from 'node:sqlite';
import { ConfigurationError } from '@org/core';
import { type RedisServer, startRedis } from '@org/test-support';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisCheck, sqliteCheck } from './checks.js';
import { createHealthChecks } from './health-checks.js';

describe('redisCheck (real redis-server)', () => {
  let server: RedisServer;
  let client: Redis;
  beforeAll(async () => {
    server = await startRedis();
    client = new Redis(server.url, { maxRetriesPerRequest: 0, retryStrategy: () => 50 });
    client.on('error', () => {});
  });
  afterAll(async () => {
    client.disconnect();
    await server.stop();
  });

  it('passes while Redis answers PING, and fails (503, nothing leaked) when it is down', async () => {
    const health = createHealthChecks({
      cacheMs: 0,
      timeoutMs: 500,
      checks: { redis: redisCheck(client) },
    });
    const up = await health.readiness();
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({ status: 'pass' });

    await server.kill();
    const down = await health.readiness();
    expect(down.status).toBe(503);
    expect(JSON.stringify(down.body)).not.toContain(String(server.port));

    await server.restart();
    await expect.poll(async () => (await health.readiness()).status, { timeout: 5000 }).toBe(200);
  });

  it('rejects something that is not a client', () => {
    expect(() => redisCheck({} as never)).toThrow(ConfigurationError);
  });
});

describe('sqliteCheck (node:sqlite)', () => {
  it('passes with SELECT 1 and fails once the database is closed', async () => {
    const database = new DatabaseSync(':memory:');
    const health = createHealthChecks({ cacheMs: 0, checks: { db: sqliteCheck(database) } });
    expect((await health.readiness()).status).toBe(200);
    expect((await health.readiness()).status).toBe(200);
    database.close();
    expect((await health.readiness()).status).toBe(503);
    database.open();
    expect((await health.readiness()).status).toBe(200);
    database.close();
  });

  it('rejects something that is not a database', () => {
    expect(() => sqliteCheck({} as never)).toThrow(ConfigurationError);
  });
});
