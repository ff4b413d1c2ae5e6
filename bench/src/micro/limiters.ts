// Issue 5: the memory limiter's ops/s next to rate-limiter-flexible's memory limiter
// and express-rate-limit's MemoryStore; the Redis limiter's hits/s with 100 hits in
// flight next to rate-limiter-flexible's Redis limiter, with Redis commands per hit.
// Usage: node limiters.ts <redis port> [--quick]. Prints JSON tables for run.ts.
import { Context, createToolkit, type RequestView } from '@org/core';
import { createRateLimiter, MemoryRateLimitStore, RedisRateLimitStore } from '@org/security';
import { MemoryStore } from 'express-rate-limit';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { perUnit, readCommandCounts } from '../runner/redis.ts';
import { emit, type MicroTable, quick, thousands, throughput } from './common.ts';

const BATCH = 100;
const TIME_MS = quick ? 250 : 2000;
const KEYS = 10_000;
const keys = Array.from({ length: KEYS }, (_, i) => `198.51.${i >> 8}.${i & 255}`);
const WINDOW_MS = 60_000;
/** Nobody is ever limited: every hit does the full counting work. */
const HUGE = 1_000_000_000;
const REDIS_HITS = quick ? 60_000 : 200_000;
const IN_FLIGHT = 100;
const REDIS_ROUNDS = quick ? 3 : 5;

/** The smallest context a limiter needs: a socket address and a path; headers dropped. */
class BenchContext extends Context {
  readonly headersSent = false;
  setHeader(): void {}
  appendHeader(): void {}
  removeHeader(): void {}
}

async function memoryTable(): Promise<MicroTable> {
  const toolkit = createToolkit();
  const contexts = keys.map(
    (ip) =>
      new BenchContext(
        {
          method: 'GET',
          path: '/',
          route: '/',
          params: {},
          ip,
          header: () => undefined,
        } as unknown as RequestView,
        toolkit,
      ),
  );
  const store = new MemoryRateLimitStore();
  const fixedWindow = {
    name: 'fw',
    algorithm: 'fixed-window',
    limit: HUGE,
    windowMs: WINDOW_MS,
  } as const;
  const gcra = { ...fixedWindow, name: 'gcra', algorithm: 'gcra' } as const;
  const limiter = createRateLimiter({ limit: HUGE, windowMs: WINDOW_MS });
  const flexible = new RateLimiterMemory({ points: HUGE, duration: WINDOW_MS / 1000 });
  const erl = new MemoryStore();
  erl.init({ windowMs: WINDOW_MS } as Parameters<MemoryStore['init']>[0]);
  let next = 0;
  const key = () => {
    next = next + 1 === KEYS ? 0 : next + 1;
    return next;
  };
  const results = await throughput(
    [
      [
        '@org/security MemoryRateLimitStore.hit, fixed window',
        () => {
          for (let i = 0; i < BATCH; i++)
            store.hit(keys[key()] as string, fixedWindow, 1, Date.now());
        },
      ],
      [
        '@org/security MemoryRateLimitStore.hit, GCRA',
        () => {
          for (let i = 0; i < BATCH; i++) store.hit(keys[key()] as string, gcra, 1, Date.now());
        },
      ],
      [
        '@org/security limiter.check(ctx): key, hit, headers',
        () => {
          for (let i = 0; i < BATCH; i++) limiter.check(contexts[key()] as BenchContext);
        },
      ],
      [
        'rate-limiter-flexible RateLimiterMemory.consume',
        async () => {
          for (let i = 0; i < BATCH; i++) await flexible.consume(keys[key()] as string);
        },
      ],
      [
        'express-rate-limit MemoryStore.increment',
        async () => {
          for (let i = 0; i < BATCH; i++) await erl.increment(keys[key()] as string);
        },
      ],
    ],
    { timeMs: TIME_MS, batch: BATCH },
  );
  const flexibleOps =
    results.get('rate-limiter-flexible RateLimiterMemory.consume')?.opsPerSecond ?? 1;
  return {
    title: `Memory rate limiter (${KEYS.toLocaleString('en')} rotating keys, quota never reached)`,
    header: ['limiter', 'hits/s', 'rme', '/ rate-limiter-flexible'],
    rows: [...results].map(([name, r]) => [
      name,
      thousands(r.opsPerSecond),
      `±${r.rmePct.toFixed(1)}%`,
      `${(r.opsPerSecond / flexibleOps).toFixed(2)}x`,
    ]),
  };
}

/** Runs `total` hits with `inFlight` of them outstanding at any time; hits/s. */
async function hitsPerSecond(total: number, hit: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < total) await hit(next++);
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return total / ((performance.now() - started) / 1000);
}

async function redisTable(port: number): Promise<MicroTable> {
  const admin = new Redis(port, '127.0.0.1');
  const policy = {
    name: 'b',
    algorithm: 'fixed-window',
    limit: HUGE,
    windowMs: WINDOW_MS,
  } as const;
  const candidates: [string, (client: Redis) => (i: number) => Promise<unknown>][] = [
    [
      '@org/security RedisRateLimitStore.hit, fixed window',
      (client) => {
        const store = new RedisRateLimitStore({ client, timeoutMs: 1000 });
        return async (i) => store.hit(keys[i % KEYS] as string, policy, 1, Date.now());
      },
    ],
    [
      '@org/security RedisRateLimitStore.hit, GCRA',
      (client) => {
        const store = new RedisRateLimitStore({ client, timeoutMs: 1000 });
        return async (i) =>
          store.hit(keys[i % KEYS] as string, { ...policy, algorithm: 'gcra' }, 1, Date.now());
      },
    ],
    [
      'rate-limiter-flexible RateLimiterRedis.consume',
      (client) => {
        const limiter = new RateLimiterRedis({
          storeClient: client,
          points: HUGE,
          duration: WINDOW_MS / 1000,
        });
        return (i) => limiter.consume(keys[i % KEYS] as string);
      },
    ],
  ];
  // Rounds interleave the candidates, each round starting one further (A B C, B C A,
  // C A B, ...), and each reports its median round, so neither the order nor a slow
  // moment of a shared machine picks the winner.
  const prepared = [];
  for (const [name, make] of candidates) {
    const client = new Redis(port, '127.0.0.1');
    await client.ping();
    const hit = make(client);
    await hitsPerSecond(5_000, hit); // warm-up: scripts loaded, JIT done
    const counter = { sent: 0 };
    const send = client.sendCommand.bind(client);
    client.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
      counter.sent++;
      return send(...args);
    }) as Redis['sendCommand'];
    prepared.push({ name, client, hit, counter, rates: [] as number[], run: '' });
  }
  const perRound = Math.round(REDIS_HITS / REDIS_ROUNDS);
  for (let round = 0; round < REDIS_ROUNDS; round++) {
    for (let turn = 0; turn < prepared.length; turn++) {
      const candidate = prepared[(round + turn) % prepared.length] as (typeof prepared)[number];
      await admin.flushall();
      await admin.config('RESETSTAT');
      candidate.counter.sent = 0;
      candidate.rates.push(await hitsPerSecond(perRound, candidate.hit));
      const { total, breakdown } = perUnit(await readCommandCounts(admin), perRound);
      candidate.run = `${total.toFixed(2)} (${breakdown})`;
    }
  }
  const measured = prepared.map(({ name, client, counter, rates, run }) => {
    client.disconnect();
    const sorted = [...rates].sort((a, b) => a - b);
    return {
      name,
      rate: sorted[Math.floor(sorted.length / 2)] as number,
      sent: counter.sent / perRound,
      run,
    };
  });
  const baseline = measured.find((m) => m.name.startsWith('rate-limiter-flexible'))?.rate ?? 1;
  admin.disconnect();
  return {
    title: `Redis rate limiter, ${IN_FLIGHT} hits in flight, ${REDIS_HITS.toLocaleString('en')} hits in ${REDIS_ROUNDS} interleaved rounds (median round)`,
    header: [
      'limiter',
      'hits/s',
      'commands sent per hit',
      'commands run per hit (INFO commandstats)',
      '/ rate-limiter-flexible',
    ],
    rows: measured.map(({ name, rate, sent, run }) => [
      name,
      thousands(rate),
      sent.toFixed(2),
      run,
      `${(rate / baseline).toFixed(2)}x`,
    ]),
  };
}

const port = Number(process.argv.find((arg) => /^\d+$/.test(arg)));
const tables = [await memoryTable()];
if (port > 0) tables.push(await redisTable(port));
emit(tables);
process.exit(0);
