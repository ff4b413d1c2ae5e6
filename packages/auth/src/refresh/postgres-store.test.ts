import {
  createRefreshTokenManager,
  PostgresRefreshTokenStore,
  RefreshTokenError,
  type RotationResult,
} from '@org/auth';
import { ConfigurationError, ServiceUnavailableError } from '@org/core';
import { type PostgresServer, startPostgres } from '@org/test-support';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY, manualClock } from '../../test/helpers.js';

/** The pool options the README recommends: a query fails fast instead of waiting for the database. */
const FAIL_FAST = { connectionTimeoutMillis: 2000, query_timeout: 5000 };

let postgres: PostgresServer;
const pools: Pool[] = [];
let tables = 0;

function newPool(): Pool {
  const pool = new Pool({ connectionString: postgres.url, ...FAIL_FAST });
  pool.on('error', () => {}); // idle connections cut by an outage; queries report failures themselves
  pools.push(pool);
  return pool;
}

async function newStore(pool: Pool, table = `families${++tables}`) {
  const store = new PostgresRefreshTokenStore({ client: pool, table });
  await store.createTables();
  return store;
}

beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
  await postgres.stop();
});

describe('PostgresRefreshTokenStore', () => {
  it('keeps one row per family with hashes and times, never a token', async () => {
    const pool = newPool();
    const clock = manualClock();
    const manager = createRefreshTokenManager({
      store: await newStore(pool, 'layout'),
      clock,
    });
    const first = await manager.issue('user-1');
    clock.advance(DAY);
    const second = await manager.rotate(first.token);

    const { rows } = await pool.query('SELECT * FROM layout');
    expect(rows).toEqual([
      {
        family_id: first.familyId,
        user_id: 'user-1',
        token_hash: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        spent_hashes: [expect.stringMatching(/^[A-Za-z0-9_-]{43}$/)],
        expires_at: String(second.expiresAt),
        family_expires_at: String(first.familyExpiresAt),
      },
    ]);
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain(first.token.split('.')[1]);
    expect(stored).not.toContain(second.token.split('.')[1]);
  });

  it('gives one winner among 20 parallel rotations from two instances, then detects the reuse', async () => {
    const stores = [await newStore(newPool(), 'race'), await newStore(newPool(), 'race')];
    const now = Date.UTC(2030, 0, 1);
    await stores[0]?.create({
      familyId: 'family-1',
      userId: 'u1',
      tokenHash: 'hash-0',
      expiresAt: now + DAY,
      familyExpiresAt: now + 30 * DAY,
      now,
    });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (stores[i % 2] as PostgresRefreshTokenStore).rotate({
          familyId: 'family-1',
          tokenHash: 'hash-0',
          nextTokenHash: `hash-${i + 1}`,
          now,
          tokenLifetimeMs: DAY,
        }),
      ),
    );
    const count = (status: RotationResult['status']) =>
      results.filter((result) => result.status === status).length;
    // The first loser replays a spent token and revokes the family (RFC 9700 4.14.2);
    // the others then find no family at all.
    expect(count('rotated')).toBe(1);
    expect(count('reused')).toBe(1);
    expect(count('invalid')).toBe(18);
    expect(results.find((result) => result.status === 'reused')).toEqual({
      status: 'reused',
      userId: 'u1',
    });
    const pool = pools.at(-1) as Pool;
    expect((await pool.query('SELECT count(*)::int AS n FROM race')).rows).toEqual([{ n: 0 }]);
  });

  it('deletes a few expired families each time one is created', async () => {
    const pool = newPool();
    const clock = manualClock();
    const manager = createRefreshTokenManager({ store: await newStore(pool, 'sweep'), clock });
    for (let i = 0; i < 6; i++) await manager.issue(`old-${i}`);
    clock.advance(8 * DAY);
    await manager.issue('new-1');
    await manager.issue('new-2');
    const { rows } = await pool.query('SELECT user_id FROM sweep ORDER BY user_id');
    expect(rows.map((row) => row.user_id)).toEqual(['new-1', 'new-2']);
  });

  it('creates its tables idempotently, from several instances at once, in a schema too', async () => {
    const pool = newPool();
    await pool.query('CREATE SCHEMA auth');
    const stores = Array.from(
      { length: 4 },
      () => new PostgresRefreshTokenStore({ client: pool, table: 'auth.families' }),
    );
    await Promise.all(stores.map((store) => store.createTables()));
    await (stores[0] as PostgresRefreshTokenStore).createTables();
    const manager = createRefreshTokenManager({ store: stores[1] as PostgresRefreshTokenStore });
    const { token } = await manager.issue('u1');
    await expect(manager.rotate(token)).resolves.toMatchObject({ userId: 'u1' });
  });

  it('refuses a table name that is not a plain identifier, and a missing client', () => {
    const client = { query: async () => ({ rows: [], rowCount: 0 }) };
    for (const table of ['a-b', 'x; DROP TABLE users', '1abc', 'a.b.c', '"quoted"', '']) {
      expect(() => new PostgresRefreshTokenStore({ client, table })).toThrow(ConfigurationError);
    }
    expect(
      () =>
        new PostgresRefreshTokenStore(
          {} as ConstructorParameters<typeof PostgresRefreshTokenStore>[0],
        ),
    ).toThrow(ConfigurationError);
  });
});

describe('PostgresRefreshTokenStore when the database goes down', () => {
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
    const store = new PostgresRefreshTokenStore({ client: pool });
    await store.createTables();
    const manager = createRefreshTokenManager({ store });
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
      expect(error.detail).not.toMatch(/postgres|ECONNREFUSED|connect|terminat/i);
    }

    await server.restart();
    // The family survived the crash: the token was never spent, so it rotates now.
    const next = await manager.rotate(token);
    expect(next.userId).toBe('u1');
    const error = await manager.rotate(token).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RefreshTokenError);
    expect(error).toMatchObject({ code: 'ERR_REFRESH_REUSED' });
  });
});
