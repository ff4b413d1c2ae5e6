import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { type RedisServer, startRedis } from '@org/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisRateLimitStore } from './redis-store.js';
import type { PolicyLimits } from './store.js';

const hooks = fileURLToPath(new URL('../../../../test-support/source-hooks.mjs', import.meta.url));
const child = fileURLToPath(new URL('../../test/fixtures/lease-child.ts', import.meta.url));

let redis: RedisServer;
let client: Redis;
beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
});
afterAll(async () => {
  await client.quit();
  await redis.stop();
});

/** Script calls Redis has run (EVALSHA and EVAL), from INFO commandstats. */
async function scriptCalls(): Promise<number> {
  const info = await client.info('commandstats');
  let calls = 0;
  for (const match of info.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g))
    calls += Number(match[1]);
  return calls;
}

const policy = (limit: number, windowMs = 60_000): PolicyLimits => ({
  name: 'lease',
  algorithm: 'fixed-window',
  limit,
  windowMs,
});

describe('RedisRateLimitStore leasing (one process)', () => {
  it('takes a slice in one round trip and spends it from memory, without awaiting', async () => {
    const store = new RedisRateLimitStore({ client, prefix: 'one:', lease: { share: 0.1 } });
    const before = await scriptCalls();
    const first = await store.hit('k', policy(100), 1, 1_000);
    expect(first).toEqual({ allowed: true, remaining: 99, resetMs: 60_000, retryAfterMs: 0 });
    for (let i = 0; i < 9; i++) {
      const next = store.hit('k', policy(100), 1, 1_001);
      expect(next).not.toBeInstanceOf(Promise);
      expect(next).toMatchObject({ allowed: true, remaining: 98 - i, resetMs: 59_999 });
    }
    expect((await scriptCalls()) - before).toBe(1);
    // Counted in Redis as used when leased: an exact instance sees them.
    expect(await client.get(store.keyOf('k', policy(100)))).toBe('1000:10');
    const exact = new RedisRateLimitStore({ client, prefix: 'one:' });
    expect(await exact.hit('k', policy(100), 0, 1_002)).toMatchObject({ remaining: 90 });
  });

  it('refuses locally once Redis has nothing left, until the window ends', async () => {
    const store = new RedisRateLimitStore({ client, prefix: 'spent:', lease: { share: 0.5 } });
    for (let i = 0; i < 4; i++) expect((await store.hit('k', policy(4), 1, 0)).allowed).toBe(true);
    const before = await scriptCalls();
    expect(await store.hit('k', policy(4), 1, 10)).toMatchObject({
      allowed: false,
      retryAfterMs: 59_990,
    });
    expect(store.hit('k', policy(4), 1, 20)).toMatchObject({ allowed: false });
    expect((await scriptCalls()) - before).toBe(1); // the one that found it spent
    expect((await store.hit('k', policy(4), 1, 60_000)).allowed).toBe(true); // a new window
  });

  it('gives unspent units back with releaseLeases()', async () => {
    const store = new RedisRateLimitStore({ client, prefix: 'back:', lease: { share: 0.2 } });
    await store.hit('k', policy(100), 1, 5_000);
    expect(await client.get(store.keyOf('k', policy(100)))).toBe('5000:20');
    await store.releaseLeases();
    expect(await client.get(store.keyOf('k', policy(100)))).toBe('5000:1');
  });

  it('keeps at most maxKeys leases, and stays exact for other algorithms', async () => {
    const store = new RedisRateLimitStore({
      client,
      prefix: 'bound:',
      lease: { share: 0.5, maxKeys: 2 },
    });
    for (const key of ['a', 'b', 'c']) await store.hit(key, policy(10), 1, 0);
    const before = await scriptCalls();
    await store.hit('a', policy(10), 1, 1); // dropped: leased again
    await store.hit('c', policy(10), 1, 1); // kept: from memory
    expect((await scriptCalls()) - before).toBe(1);
    const gcra = { ...policy(10), algorithm: 'gcra' as const };
    const exact = store.hit('g', gcra, 1, 0);
    expect(exact).toBeInstanceOf(Promise);
    await exact; // settled here, not as an unhandled timeout during the next test
  });

  it('rejects bad lease options at construction, naming them', () => {
    expect(() => new RedisRateLimitStore({ client, lease: { share: 0 } })).toThrow(/lease\.share/);
    expect(() => new RedisRateLimitStore({ client, lease: { share: 0.9 } })).toThrow(
      /lease\.share/,
    );
    expect(() => new RedisRateLimitStore({ client, lease: { maxKeys: 0 } })).toThrow(
      /lease\.maxKeys/,
    );
    expect(() => new RedisRateLimitStore({ client, lease: 'yes' as never })).toThrow(/lease/);
  });
});

interface ChildReport {
  admitted: Record<string, number>;
  hits: number;
}

/** Resolves with the first line of `child`'s output that starts with `prefix`. */
function lineOf(child: ChildProcess, prefix: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith(prefix));
      if (line === undefined) return;
      child.stdout?.off('data', onData);
      resolve(line);
    };
    child.stdout?.on('data', onData);
    child.once('exit', () => reject(new Error(`exited before "${prefix}": ${out}`)));
  });
}

/**
 * Runs `count` instances hammering one key; undefined for one that died. With `dieAfter`,
 * the first starts alone and the others once it holds a lease, so it dies holding one.
 */
async function hammer(
  key: string,
  count: number,
  env: { limit: number; windowMs: number; share: number; durationMs: number },
  dieAfter?: number,
): Promise<(ChildReport | undefined)[]> {
  const children = Array.from({ length: count }, (_, index) =>
    spawn(process.execPath, ['--disable-warning=ExperimentalWarning', '--import', hooks, child], {
      env: {
        ...process.env,
        REDIS_URL: redis.url,
        KEY: key,
        LIMIT: String(env.limit),
        WINDOW: String(env.windowMs),
        SHARE: String(env.share),
        DURATION: String(env.durationMs),
        ...(index === 0 && dieAfter !== undefined ? { DIE_AFTER: String(dieAfter) } : {}),
      },
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  await Promise.all(children.map((c) => lineOf(c, 'ready')));
  const reports = children.map(async (c) => {
    const exited = once(c, 'exit');
    const report = lineOf(c, 'report ').catch(() => undefined);
    await exited;
    const line = await report;
    return line === undefined ? undefined : (JSON.parse(line.slice(7)) as ChildReport);
  });
  const [first, ...others] = children as [ChildProcess, ...ChildProcess[]];
  if (dieAfter !== undefined) {
    const leased = lineOf(first, 'leased');
    first.stdin?.write('go\n');
    await leased.catch(() => undefined);
  } else first.stdin?.write('go\n');
  for (const c of others) c.stdin?.write('go\n');
  return Promise.all(reports);
}

const admittedOf = (reports: (ChildReport | undefined)[]) =>
  reports.reduce((sum, r) => sum + Object.values(r?.admitted ?? {}).reduce((a, b) => a + b, 0), 0);

describe('RedisRateLimitStore leasing across four processes', () => {
  const env = { limit: 2000, windowMs: 5000, share: 0.02, durationMs: 2500 };
  const slice = env.limit * env.share;

  it('never admits more than the limit in a window, with about limit / slice round trips', async () => {
    const before = await scriptCalls();
    const reports = await hammer('four', 4, env);
    const windows = new Set(reports.flatMap((r) => Object.keys(r?.admitted ?? {})));
    expect(windows.size).toBe(1); // one window: every instance saw the same end
    // Over-admission: none, since a lease is counted in Redis before its units are spent.
    // Each instance spends its own slices to the end, so none are stranded either.
    expect(admittedOf(reports)).toBe(env.limit);
    const calls = (await scriptCalls()) - before;
    expect(calls).toBeGreaterThanOrEqual(env.limit / slice);
    expect(calls).toBeLessThanOrEqual(env.limit / slice + 4 * 2); // plus each finding it spent
  });

  it('loses at most the lease of a process that dies', async () => {
    const reports = await hammer('dies', 4, env, 5);
    expect(reports[0]).toBeUndefined(); // killed itself after 5 admitted hits
    const total = admittedOf(reports) + 5;
    expect(total).toBeLessThanOrEqual(env.limit);
    expect(total).toBeGreaterThanOrEqual(env.limit - slice);
  });
});
