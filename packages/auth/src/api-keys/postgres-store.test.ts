import { createApiKeys, PostgresApiKeyStore } from '@org/auth';
import { ConfigurationError, ServiceUnavailableError } from '@org/core';
import { type PostgresServer, startPostgres } from '@org/test-support';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../test/helpers.js';

/** The pool options the README recommends: a query fails fast instead of waiting for the database. */
const FAIL_FAST = { connectionTimeoutMillis: 2000, query_timeout: 5000 };

let postgres: PostgresServer;
const pools: Pool[] = [];

function newPool(): Pool {
  const pool = new Pool({ connectionString: postgres.url, ...FAIL_FAST });
  pool.on('error', () => {}); // idle connections cut by an outage; queries report failures themselves
  pools.push(pool);
  return pool;
}

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { code: string }).code;
  }
  return 'resolved';
}

beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
  await postgres.stop();
});

describe('PostgresApiKeyStore', () => {
  it('refuses a key revoked by one instance at once on another sharing the database', async () => {
    const clock = manualClock();
    // Two instances of the service: each its own pool and store, one table.
    const first = new PostgresApiKeyStore({ client: newPool(), table: 'shared_keys' });
    const second = new PostgresApiKeyStore({ client: newPool(), table: 'shared_keys' });
    await Promise.all([first.createTables(), second.createTables()]);
    const one = createApiKeys({ store: first, clock });
    const two = createApiKeys({ store: second, clock });

    const { key, record } = await one.create({ owner: 'u1', name: 'CI', scopes: ['deploy'] });
    await expect(two.verify(key)).resolves.toEqual(record);
    expect(await one.revoke(record.id)).toBe(true);
    expect(await code(two.verify(key))).toBe('ERR_API_KEY_REVOKED');
    expect((await two.list('u1'))[0]?.revokedAt).toBe(clock.now());

    // A rotation through one instance: the old key works on the other until the overlap ends.
    const old = await one.create({ owner: 'u1', name: 'deploy' });
    const rotated = await one.rotate(old.record.id, { overlapSeconds: 60 });
    await expect(two.verify(old.key)).resolves.toMatchObject({ id: old.record.id });
    await expect(two.verify(rotated.key)).resolves.toMatchObject({ id: rotated.record.id });
    clock.advance(60_000);
    expect(await code(two.verify(old.key))).toBe('ERR_API_KEY_EXPIRED');
    expect((await two.list('u1')).map((k) => k.name)).toEqual(['CI', 'deploy', 'deploy']);
  });

  it('keeps the hash in typed columns, never the secret', async () => {
    const pool = newPool();
    const store = new PostgresApiKeyStore({ client: pool, table: 'layout_keys' });
    await store.createTables();
    const { key, record } = await createApiKeys({ store, clock: manualClock(1000) }).create({
      owner: 'u9',
      name: 'a',
      scopes: ['read', 'write'],
      roles: ['user'],
    });
    const { rows } = await pool.query('SELECT * FROM layout_keys');
    expect(rows).toEqual([
      {
        id: record.id,
        seq: '1',
        hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        name: 'a',
        owner: 'u9',
        scopes: ['read', 'write'],
        roles: ['user'],
        created_at: '1000',
        expires_at: null,
        last_used_at: null,
        revoked_at: null,
      },
    ]);
    expect(JSON.stringify(rows)).not.toContain(key.slice(21, 57));
  });

  it('refuses a table name that is not a plain identifier, and a missing client', () => {
    const client = { query: async () => ({ rows: [], rowCount: 0 }) };
    for (const table of ['api-keys', 'keys; DROP TABLE users', '9keys', 'a.b.c', '"keys"']) {
      expect(() => new PostgresApiKeyStore({ client, table })).toThrow(ConfigurationError);
    }
    expect(() => new PostgresApiKeyStore({ client, table: 'app.keys' })).not.toThrow();
    expect(
      () => new PostgresApiKeyStore({} as ConstructorParameters<typeof PostgresApiKeyStore>[0]),
    ).toThrow(ConfigurationError);
  });
});

describe('PostgresApiKeyStore when the database goes down', () => {
  let server: PostgresServer;
  let pool: Pool;

  beforeAll(async () => {
    server = await startPostgres();
    pool = new Pool({ connectionString: server.url, ...FAIL_FAST });
    pool.on('error', () => {});
  });
  afterAll(async () => {
    await pool.end();
    await server.stop();
  });

  it('fails closed with a 503 for every operation, then recovers with the same store', async () => {
    const store = new PostgresApiKeyStore({ client: pool });
    await store.createTables();
    const apiKeys = createApiKeys({ store });
    const { key, record } = await apiKeys.create({ owner: 'u1', name: 'a' });
    await server.kill();

    const outcomes = await Promise.allSettled([
      apiKeys.verify(key),
      apiKeys.create({ owner: 'u1', name: 'b' }),
      apiKeys.list('u1'),
      apiKeys.revoke(record.id),
      apiKeys.rotate(record.id),
    ]);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason;
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect(error).toMatchObject({ status: 503, code: 'ERR_API_KEY_STORE_UNAVAILABLE' });
      expect(error.detail).not.toMatch(/postgres|ECONNREFUSED|connect|terminat/i);
    }

    await server.restart();
    await expect(apiKeys.verify(key)).resolves.toMatchObject({ id: record.id });
    expect(await apiKeys.revoke(record.id)).toBe(true);
    expect(await code(apiKeys.verify(key))).toBe('ERR_API_KEY_REVOKED');
  });
});
