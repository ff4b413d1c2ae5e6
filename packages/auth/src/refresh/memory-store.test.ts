import {
  createRefreshTokenManager,
  MemoryRefreshTokenStore,
  type RefreshTokenStore,
} from '@org/auth';
import { ConfigurationError, ServiceUnavailableError } from '@org/core';
import { describe, expect, it } from 'vitest';
import { DAY, manualClock } from '../../test/helpers.js';

describe('MemoryRefreshTokenStore', () => {
  it('holds at most maxFamilies, evicting the oldest', async () => {
    const store = new MemoryRefreshTokenStore({ maxFamilies: 2 });
    const manager = createRefreshTokenManager({ store });
    const oldest = await manager.issue('u1');
    const middle = await manager.issue('u2');
    const newest = await manager.issue('u3');
    expect(store.size).toBe(2);
    await expect(manager.rotate(oldest.token)).rejects.toMatchObject({
      code: 'ERR_REFRESH_INVALID',
    });
    await expect(manager.rotate(middle.token)).resolves.toMatchObject({ userId: 'u2' });
    await expect(manager.rotate(newest.token)).resolves.toMatchObject({ userId: 'u3' });
    expect(await manager.revokeAllForUser('u1')).toBe(0);
  });

  it('sweeps expired families before evicting live ones', async () => {
    const clock = manualClock();
    const store = new MemoryRefreshTokenStore({ maxFamilies: 2 });
    const manager = createRefreshTokenManager({ store, clock });
    await manager.issue('expired');
    clock.advance(8 * DAY);
    const live = await manager.issue('live');
    await manager.issue('another');
    expect(store.size).toBe(2);
    await expect(manager.rotate(live.token)).resolves.toMatchObject({ userId: 'live' });
  });

  it('refuses a bad bound at construction', () => {
    expect(() => new MemoryRefreshTokenStore({ maxFamilies: 0 })).toThrow(ConfigurationError);
    expect(() => createRefreshTokenManager({ tokenLifetimeSeconds: 1.5 })).toThrow(
      /tokenLifetimeSeconds/,
    );
  });
});

describe('a store that cannot be reached', () => {
  const broken = (fail: () => never): RefreshTokenStore => ({
    create: async () => fail(),
    rotate: async () => fail(),
    revoke: async () => fail(),
    revokeUser: () => fail(), // throws synchronously, not even a promise
  });

  it('turns every failure into a 503 that hides the cause', async () => {
    const manager = createRefreshTokenManager({
      store: broken(() => {
        throw new Error('connect ECONNREFUSED 10.0.0.7:6379');
      }),
    });
    const token = `${'A'.repeat(22)}.${'B'.repeat(43)}`;
    for (const attempt of [
      manager.issue('u1'),
      manager.rotate(token),
      manager.revoke(token),
      manager.revokeAllForUser('u1'),
    ]) {
      const error = await attempt.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect(error).toMatchObject({ status: 503, code: 'ERR_REFRESH_STORE_UNAVAILABLE' });
      expect((error as Error).message).not.toContain('ECONNREFUSED');
    }
  });
});
