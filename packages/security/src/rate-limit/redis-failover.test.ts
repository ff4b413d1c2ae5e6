import { randomUUID } from 'node:crypto';
import { createToolkit } from '@org/core';
import { redisTopologies } from '@org/test-support';
import { describe, expect, it } from 'vitest';
import { createLoginGuard } from '../brute-force/login-guard.js';
import { fakeContext, ManualClock } from '../internal/fake-context.js';
import { createRateLimiter, type RateLimiter, type RateLimitOptions } from './rate-limiter.js';
import { RedisRateLimitStore } from './redis-store.js';
import type { RateLimitAlgorithm } from './store.js';

/**
 * A master dies in the middle of the test, on a Cluster and behind Sentinel. Until its
 * replica is promoted every limiter answers per its failure policy (503 when it fails
 * closed, its insurance or fail-open otherwise) and nothing else; afterwards the same
 * client and stores answer from Redis again, with no restart.
 */

const topologies = redisTopologies(['cluster', 'sentinel']);
const ALGORITHMS: readonly RateLimitAlgorithm[] = ['fixed-window', 'sliding-window', 'gcra'];
const IP = '198.51.100.7';
const COOLDOWN_MS = 500;

/** 'ok', or the HTTP status and code of the error. */
async function outcome(answer: unknown): Promise<string> {
  try {
    await answer;
    return 'ok';
  } catch (error) {
    const { status, code } = error as { status?: number; code?: string };
    return `${status} ${code}`;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Store failures reach the toolkit's error hooks: counted here instead of warned about. */
const reported: unknown[] = [];
const toolkit = createToolkit({ onError: (error) => reported.push(error) });
const context = (ip: string) => fakeContext({ ip }, toolkit);

describe.each(topologies)('Redis rate limits through a $name failover', (topology) => {
  it('answers per the failure policy while the master is down, then from Redis again', async () => {
    const clock = new ManualClock();
    const prefix = `f${randomUUID()}:`;
    const store = new RedisRateLimitStore({
      client: topology.client,
      prefix,
      timeoutMs: 200,
      breakerCooldownMs: COOLDOWN_MS,
    });
    const limiter = (
      name: string,
      algorithm: RateLimitAlgorithm,
      policy: Partial<RateLimitOptions>,
    ): RateLimiter =>
      createRateLimiter({
        name,
        algorithm,
        limit: 1000,
        windowMs: 3_600_000,
        store,
        clock,
        ...policy,
      });
    const limiters = ALGORITHMS.flatMap((algorithm) => [
      { policy: 'closed', check: limiter(`closed-${algorithm}`, algorithm, { insurance: false }) },
      {
        policy: 'open',
        check: limiter(`open-${algorithm}`, algorithm, { insurance: false, failOpen: true }),
      },
      { policy: 'insured', check: limiter(`insured-${algorithm}`, algorithm, {}) },
    ]);
    const guard = createLoginGuard({ store, clock, insurance: false });
    let accounts = 0;
    // Each round's login attempt is another account's, so none is ever locked out.
    const round = () =>
      Promise.all([
        ...limiters.map(async ({ policy, check }) => ({
          policy,
          outcome: await outcome(check.check(context(IP))),
        })),
        outcome(guard.check(context(IP), `user${++accounts}`)).then((answer) => ({
          policy: 'guard',
          outcome: answer,
        })),
      ]);
    expect((await round()).map((answer) => answer.outcome)).toEqual(Array(10).fill('ok'));

    // Every limiter's key carries the hash tag {IP}: one slot, one master.
    const key = store.keyOf(IP, { name: 'closed-gcra', algorithm: 'gcra', limit: 1, windowMs: 1 });
    let promoted = false;
    const failover = topology.killMaster(key).finally(() => {
      promoted = true;
    });
    const during: { policy: string; outcome: string }[] = [];
    while (!promoted) {
      during.push(...(await round()));
      await sleep(50);
    }
    await failover;

    const unavailable = '503 ERR_RATE_LIMIT_UNAVAILABLE';
    for (const { policy, outcome: answer } of during) {
      if (policy === 'open' || policy === 'insured') expect(answer).toBe('ok');
      else expect([`ok`, unavailable]).toContain(answer);
    }
    // The outage was seen: the fail-closed limiters refused with 503 at least once.
    expect(during.filter((answer) => answer.outcome === unavailable).length).toBeGreaterThan(0);
    expect(reported.length).toBeGreaterThan(0);

    // Back on Redis with the same client and store, once the breaker lets a probe through.
    const deadline = performance.now() + 15_000;
    for (;;) {
      clock.advance(COOLDOWN_MS + 1);
      const answers = await round();
      if (answers.every((answer) => answer.outcome === 'ok')) break;
      if (performance.now() > deadline) throw new Error(`no recovery: ${JSON.stringify(answers)}`);
      await sleep(100);
    }
    // Counts are exact again, on Redis: 3 pass, the 4th is refused, for every algorithm.
    for (const algorithm of ALGORITHMS) {
      const strict = createRateLimiter({
        name: `after-${algorithm}`,
        algorithm,
        limit: 3,
        windowMs: 3_600_000,
        store,
        clock,
        insurance: false,
      });
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await outcome(strict.check(context(IP))));
      expect(answers).toEqual(['ok', 'ok', 'ok', '429 ERR_RATE_LIMITED']);
    }
    expect(await topology.keys(`${prefix}after-*`)).toHaveLength(3);
    // The login guard counts on Redis again too: 5 failures, then 429.
    const ctx = () => context('203.0.113.50');
    for (let i = 0; i < 5; i++) {
      const attempt = ctx();
      await guard.check(attempt, 'bob@example.com');
      await guard.recordFailure(attempt, 'bob@example.com');
    }
    expect(await outcome(guard.check(ctx(), 'bob@example.com'))).toBe('429 ERR_LOGIN_BLOCKED');
  });
});
