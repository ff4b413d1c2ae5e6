import type { RefreshTokenStore } from '@org/auth';
import {
  createRefreshTokenManager,
  MemoryRefreshTokenStore,
  PostgresRefreshTokenStore,
  RedisRefreshTokenStore,
  RefreshTokenError,
} from '@org/auth';
import { type PostgresServer, redisTopologies, startPostgres } from '@org/test-support';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY, manualClock } from '../../test/helpers.js';

let prefixes = 0;
let postgres: PostgresServer;
let pool: Pool;

beforeAll(async () => {
  postgres = await startPostgres();
  pool = new Pool({ connectionString: postgres.url, connectionTimeoutMillis: 2000 });
});
afterAll(async () => {
  await pool?.end();
  await postgres?.stop();
});

const stores: { name: string; create: () => RefreshTokenStore | Promise<RefreshTokenStore> }[] = [
  { name: 'memory', create: () => new MemoryRefreshTokenStore() },
  ...redisTopologies().map((topology) => ({
    name: `${topology.name} Redis`,
    create: () =>
      new RedisRefreshTokenStore({ client: topology.client, prefix: `test${++prefixes}:` }),
  })),
  {
    name: 'PostgreSQL',
    create: async () => {
      // A table per store: each test starts empty, as with a Redis prefix.
      const store = new PostgresRefreshTokenStore({ client: pool, table: `test${++prefixes}` });
      await store.createTables();
      return store;
    },
  },
];

/** The code a rejected rotation failed with. */
async function failure(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RefreshTokenError);
  return (error as RefreshTokenError).code;
}

describe.each(stores)('refresh tokens in the $name store', ({ create }) => {
  const setup = async () => {
    const clock = manualClock();
    const manager = createRefreshTokenManager({ store: await create(), clock });
    return { clock, manager };
  };

  it('issues an opaque 256-bit token and rotates it into a new one', async () => {
    const { manager } = await setup();
    const first = await manager.issue('u1');
    expect(first.token).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(first.userId).toBe('u1');
    const second = await manager.rotate(first.token);
    expect(second.token).not.toBe(first.token);
    expect(second.familyId).toBe(first.familyId);
    expect(second.userId).toBe('u1');
    const third = await manager.rotate(second.token);
    expect(third.userId).toBe('u1');
  });

  it('revokes the whole family when a spent token is replayed, newest token included', async () => {
    const { manager } = await setup();
    const first = await manager.issue('u1');
    const second = await manager.rotate(first.token);
    const other = await manager.issue('u1');
    expect(await failure(manager.rotate(first.token))).toBe('ERR_REFRESH_REUSED');
    expect(await failure(manager.rotate(second.token))).toBe('ERR_REFRESH_INVALID');
    // Another login of the same user is another family and keeps working.
    await expect(manager.rotate(other.token)).resolves.toMatchObject({ userId: 'u1' });
  });

  it('lets exactly one of 20 parallel rotations of one token succeed', async () => {
    const { manager } = await setup();
    const { token } = await manager.issue('u1');
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => manager.rotate(token)),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const lost of results.filter((r) => r.status === 'rejected')) {
      expect(lost.reason).toBeInstanceOf(RefreshTokenError);
      expect((lost.reason as RefreshTokenError).status).toBe(401);
    }
    // The losers replayed a spent token: the family, winner's token included, is gone.
    const winner = (won[0] as PromiseFulfilledResult<{ token: string }>).value;
    expect(await failure(manager.rotate(winner.token))).toBe('ERR_REFRESH_INVALID');
  });

  it('refuses malformed and forged tokens without touching the family', async () => {
    const { manager } = await setup();
    const { token, familyId } = await manager.issue('u1');
    expect(await failure(manager.rotate('not-a-token'))).toBe('ERR_REFRESH_INVALID');
    expect(await failure(manager.rotate(`${familyId}.${'A'.repeat(43)}`))).toBe(
      'ERR_REFRESH_INVALID',
    );
    await expect(manager.rotate(token)).resolves.toMatchObject({ familyId });
  });

  it('logout revokes the family; an unknown token is not an error', async () => {
    const { manager } = await setup();
    const first = await manager.issue('u1');
    const second = await manager.rotate(first.token);
    expect(await manager.revoke(second.token)).toBe(true);
    expect(await failure(manager.rotate(second.token))).toBe('ERR_REFRESH_INVALID');
    expect(await manager.revoke(second.token)).toBe(false);
    expect(await manager.revoke('garbage')).toBe(false);
  });

  it("revokes every family of a user and no one else's", async () => {
    const { manager } = await setup();
    const mine = await Promise.all([manager.issue('u1'), manager.issue('u1'), manager.issue('u1')]);
    const theirs = await manager.issue('u2');
    await manager.rotate(mine[0].token).then((next) => (mine[0] = next));
    expect(await manager.revokeAllForUser('u1')).toBe(3);
    for (const { token } of mine)
      expect(await failure(manager.rotate(token))).toBe('ERR_REFRESH_INVALID');
    await expect(manager.rotate(theirs.token)).resolves.toMatchObject({ userId: 'u2' });
    expect(await manager.revokeAllForUser('u1')).toBe(0);
  });

  it('expires a token not rotated within its lifetime (7 days)', async () => {
    const { manager, clock } = await setup();
    const first = await manager.issue('u1');
    expect(first.expiresAt - clock.now()).toBe(7 * DAY);
    clock.advance(7 * DAY - 1);
    const second = await manager.rotate(first.token);
    expect(second.expiresAt - clock.now()).toBe(7 * DAY);
    clock.advance(7 * DAY);
    expect(await failure(manager.rotate(second.token))).toBe('ERR_REFRESH_EXPIRED');
    expect(await failure(manager.rotate(second.token))).toBe('ERR_REFRESH_INVALID');
  });

  it('ends a family 30 days after login however often it is rotated', async () => {
    const { manager, clock } = await setup();
    let current = await manager.issue('u1');
    const end = current.familyExpiresAt;
    expect(end - clock.now()).toBe(30 * DAY);
    for (let day = 6; day < 30; day += 6) {
      clock.advance(6 * DAY);
      current = await manager.rotate(current.token);
      expect(current.familyExpiresAt).toBe(end);
      expect(current.expiresAt).toBeLessThanOrEqual(end);
    }
    expect(current.expiresAt).toBe(end);
    clock.advance(end - clock.now());
    expect(await failure(manager.rotate(current.token))).toBe('ERR_REFRESH_EXPIRED');
  });

  it('answers a refusal as a 401 problem with a Bearer challenge', async () => {
    const manager = createRefreshTokenManager({ store: await create(), realm: 'accounts' });
    const error = await manager.rotate('nope').catch((e: unknown) => e);
    expect(error).toMatchObject({
      status: 401,
      code: 'ERR_REFRESH_INVALID',
      headers: {
        'www-authenticate':
          'Bearer realm="accounts", error="invalid_token", error_description="The refresh token is invalid."',
      },
    });
  });

  it('never hands the raw token to the store', async () => {
    const seen: unknown[] = [];
    const inner = await create();
    const spy: RefreshTokenStore = {
      create: (family) => {
        seen.push(family);
        return inner.create(family);
      },
      rotate: (request) => {
        seen.push(request);
        return inner.rotate(request);
      },
      revoke: (id, hash) => {
        seen.push(id, hash);
        return inner.revoke(id, hash);
      },
      revokeUser: (user) => {
        seen.push(user);
        return inner.revokeUser(user);
      },
    };
    const manager = createRefreshTokenManager({ store: spy });
    const first = await manager.issue('u1');
    const second = await manager.rotate(first.token);
    await manager.revoke(second.token);
    const recorded = JSON.stringify(seen);
    expect(recorded).not.toContain(first.token.split('.')[1]);
    expect(recorded).not.toContain(second.token.split('.')[1]);
  });
});
