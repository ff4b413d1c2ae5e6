import { randomUUID } from 'node:crypto';
import { ConfigurationError, createToolkit, UnauthorizedError } from '@org/core';
import { adapters, type RunningApp, redisTopologies } from '@org/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { clientIp } from '../client-ip/client-ip.js';
import { fakeContext, ManualClock } from '../internal/fake-context.js';
import { MemoryRateLimitStore } from '../rate-limit/memory-store.js';
import { RedisRateLimitStore } from '../rate-limit/redis-store.js';
import type { RateLimitStore } from '../rate-limit/store.js';
import { createLoginGuard, type LoginGuardOptions } from './login-guard.js';

const topologies = redisTopologies();

const stores: [string, () => RateLimitStore][] = [
  ['memory', () => new MemoryRateLimitStore()],
  ...topologies.map((topology): [string, () => RateLimitStore] => [
    `${topology.name} Redis`,
    () =>
      new RedisRateLimitStore({
        client: topology.client,
        prefix: `bf${randomUUID()}:`,
        timeoutMs: 2000,
      }),
  ]),
];

const PASSWORD = 'correct horse battery staple';

describe.each(adapters)('login guard on $name', (fixture) => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(options: LoginGuardOptions) {
    const guard = createLoginGuard(options);
    const toolkit = createToolkit({ plugins: [clientIp({ trustProxy: 1 })] });
    app = await fixture.start(toolkit, [
      {
        method: 'POST',
        path: '/login',
        handler: async (ctx) => {
          const { email, password } = (await ctx.request.body()) as {
            email: string;
            password: string;
          };
          await guard.check(ctx, email);
          if (password !== PASSWORD) {
            await guard.recordFailure(ctx, email);
            throw new UnauthorizedError({ detail: 'Invalid email or password.' });
          }
          await guard.recordSuccess(ctx, email);
          return { body: { token: 'ok' } };
        },
      },
    ]);
    const url = app.url;
    return (email: string, password: string, ip = '198.51.100.1') =>
      fetch(`${url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
        body: JSON.stringify({ email, password }),
      });
  }

  it.each(stores)(
    'blocks an account from an IP after 5 failures, even with the right password (%s)',
    async (_n, store) => {
      const clock = new ManualClock();
      const login = await start({ clock, store: store() });
      for (let i = 0; i < 5; i++)
        expect((await login('ann@example.com', 'guess')).status).toBe(401);
      const blocked = await login('ann@example.com', PASSWORD);
      expect(blocked.status).toBe(429);
      expect(blocked.headers.get('retry-after')).toBe('900');
      expect(blocked.headers.get('content-type')).toContain('application/problem+json');
      expect(await blocked.json()).toMatchObject({ status: 429, code: 'ERR_LOGIN_BLOCKED' });
      // Same account, case and spaces aside, from the same address: still blocked.
      expect((await login(' ANN@example.com', PASSWORD)).status).toBe(429);
      // The real user elsewhere, and other accounts here, are not affected.
      expect((await login('ann@example.com', PASSWORD, '203.0.113.9')).status).toBe(200);
      expect((await login('bob@example.com', PASSWORD)).status).toBe(200);
      clock.advance(10 * 60_000);
      expect((await login('ann@example.com', PASSWORD)).headers.get('retry-after')).toBe('300');
      clock.advance(5 * 60_000);
      expect((await login('ann@example.com', PASSWORD)).status).toBe(200);
    },
  );

  it('throttles a burst of parallel guesses as strictly as sequential ones', async () => {
    const login = await start({ clock: new ManualClock() });
    const statuses = await Promise.all(
      Array.from({ length: 20 }, async () => (await login('dan@example.com', 'guess')).status),
    );
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15);
  });

  it('a success clears the failures of that account and IP', async () => {
    const login = await start({ clock: new ManualClock() });
    for (let i = 0; i < 4; i++) expect((await login('cy@example.com', 'nope')).status).toBe(401);
    expect((await login('cy@example.com', PASSWORD)).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await login('cy@example.com', 'nope')).status).toBe(401);
    expect((await login('cy@example.com', PASSWORD)).status).toBe(200);
  });
});

describe('createLoginGuard', () => {
  it('blocks an account everywhere after maxFailuresPerAccount failures from many IPs', async () => {
    const guard = createLoginGuard({ clock: new ManualClock(), maxFailuresPerAccount: 10 });
    for (let i = 0; i < 10; i++)
      await guard.recordFailure(fakeContext({ ip: `203.0.113.${i}` }), 'dee');
    await expect(guard.check(fakeContext({ ip: '192.0.2.200' }), 'dee')).rejects.toMatchObject({
      status: 429,
      code: 'ERR_LOGIN_BLOCKED',
    });
    await expect(guard.check(fakeContext({ ip: '192.0.2.200' }), 'eve')).resolves.toBeUndefined();
  });

  it.each(topologies)(
    'keeps account names out of the store keys ($name Redis)',
    async (topology) => {
      const prefix = `keys${randomUUID()}:`;
      const guard = createLoginGuard({
        store: new RedisRateLimitStore({ client: topology.client, prefix }),
      });
      await guard.recordFailure(fakeContext({ ip: '198.51.100.4' }), 'secret.user@example.com');
      const keys = await topology.keys(`${prefix}*`);
      expect(keys).toHaveLength(2);
      expect(keys.join(' ')).not.toMatch(/secret|example/);
      expect(keys.some((key) => key.includes('198.51.100.4'))).toBe(true);
    },
  );

  it.each(stores)(
    'release gives back an attempt that reached no verdict, once, in its window (%s)',
    async (_name, makeStore) => {
      const clock = new ManualClock();
      const guard = createLoginGuard({ clock, store: makeStore() });
      const ctx = () => fakeContext({ ip: '198.51.100.9' });
      for (let i = 0; i < 4; i++) await guard.recordFailure(ctx(), 'flo');
      // Ten logins the hasher refused: each checked, then released, none counted.
      for (let i = 0; i < 10; i++) {
        const attempt = ctx();
        await guard.check(attempt, 'flo');
        await guard.release(attempt, 'flo');
        await guard.release(attempt, 'flo'); // a second release gives nothing back
      }
      // The fifth real failure is still allowed, and blocks the pair.
      const fifth = ctx();
      await guard.check(fifth, 'flo');
      await guard.recordFailure(fifth, 'flo');
      await expect(guard.check(ctx(), 'flo')).rejects.toMatchObject({
        status: 429,
        code: 'ERR_LOGIN_BLOCKED',
      });
      // Released after its failure was recorded: nothing to give back.
      const late = ctx();
      await guard.release(late, 'flo');
      await expect(guard.check(ctx(), 'flo')).rejects.toMatchObject({ status: 429 });
    },
  );

  it.each(stores)(
    'release in a later window gives nothing back to the new one (%s)',
    async (_name, makeStore) => {
      const clock = new ManualClock();
      const guard = createLoginGuard({ clock, store: makeStore(), windowMs: 60_000 });
      const ctx = () => fakeContext({ ip: '198.51.100.10' });
      const early = ctx();
      await guard.check(early, 'gus'); // opens a window and counts one
      clock.advance(61_000);
      for (let i = 0; i < 5; i++) await guard.recordFailure(ctx(), 'gus'); // a new window, full
      await guard.release(early, 'gus');
      await expect(guard.check(ctx(), 'gus')).rejects.toMatchObject({ status: 429 });
    },
  );

  it('rejects bad options at start-up', () => {
    expect(() => createLoginGuard({ maxFailuresPerIp: 0 })).toThrow(ConfigurationError);
    expect(() => createLoginGuard({ windowMs: 1.5 })).toThrow(/windowMs/);
    expect(() => createLoginGuard({ normalizeAccount: 'lower' as never })).toThrow(
      /normalizeAccount/,
    );
  });
});
