import { randomUUID } from 'node:crypto';
import { type RedisServer, startRedis } from '@org/test-support';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisIdempotencyStore } from './redis-store.js';
import type { IdempotencyRecord } from './store.js';

let redis: RedisServer;
let client: Redis;
let admin: Redis;
beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  admin = new Redis(redis.url);
  await Promise.all([client.ping(), admin.ping()]);
});
afterAll(async () => {
  client?.disconnect();
  admin?.disconnect();
  await redis?.stop();
});

const claimOf = (token: string): IdempotencyRecord => ({ fingerprint: 'f', token });

/** Calls of `command` since the last `CONFIG RESETSTAT`, from `INFO commandstats`. */
async function calls(command: string): Promise<number> {
  const info = await admin.info('commandstats');
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
}

describe('RedisIdempotencyStore', () => {
  it('claims in one command (SET NX PX GET), once among 100 concurrent claims', async () => {
    const store = new RedisIdempotencyStore({ client, prefix: `c${randomUUID()}:` });
    await admin.config('RESETSTAT');
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) => store.claim('k', claimOf(`t${i}`), 60_000)),
    );
    expect(await calls('set')).toBe(100);
    expect(answers.filter((answer) => answer === undefined)).toHaveLength(1);
    const winner = answers.indexOf(undefined);
    expect(new Set(answers.filter(Boolean).map((answer) => answer?.token))).toEqual(
      new Set([`t${winner}`]),
    );
  });

  it('keys records under the prefix with the whole key as the hash tag, each with its TTL', async () => {
    const prefix = `p${randomUUID()}:`;
    const store = new RedisIdempotencyStore({ client, prefix });
    expect(store.keyOf('abc')).toBe(`${prefix}{abc}`);
    await store.claim('abc', claimOf('t'), 60_000);
    const claimTtl = await admin.pttl(`${prefix}{abc}`);
    expect(claimTtl).toBeGreaterThan(59_000);
    expect(claimTtl).toBeLessThanOrEqual(60_000);
    const completed = { ...claimOf('t'), response: { status: 201, headers: {}, text: 'ok' } };
    await store.complete('abc', completed, 86_400_000);
    const retention = await admin.pttl(`${prefix}{abc}`);
    expect(retention).toBeGreaterThan(86_399_000);
    expect(await store.claim('abc', claimOf('u'), 60_000)).toEqual(completed);
  });

  it('releases only its own claim', async () => {
    const store = new RedisIdempotencyStore({ client, prefix: `r${randomUUID()}:` });
    await store.claim('k', claimOf('mine'), 60_000);
    await store.release('k', claimOf('other'));
    expect(await admin.exists(store.keyOf('k'))).toBe(1);
    await store.release('k', claimOf('mine'));
    expect(await admin.exists(store.keyOf('k'))).toBe(0);
  });

  it('refuses a key holding something else rather than replaying it', async () => {
    const store = new RedisIdempotencyStore({ client, prefix: `x${randomUUID()}:` });
    await admin.set(store.keyOf('k'), '"not a record"');
    await expect(store.claim('k', claimOf('t'), 60_000)).rejects.toThrow(/idempotency record/);
  });
});
