// Issue 5: memory after 1,000,000 distinct keys (200,000 with --quick). Ours is bounded by `maxKeys`
// (default 100,000); the full run also shows rate-limiter-flexible's and
// express-rate-limit's memory stores on the same keys.
// Usage: node --expose-gc growth.ts [--quick]. Prints JSON tables for run.ts.
import { MemoryRateLimitStore } from '@org/security';
import { MemoryStore } from 'express-rate-limit';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { emit, quick } from './common.ts';

/** Quick runs fill 200,000 keys: twice the default bound, so eviction is measured too. */
const DISTINCT = quick ? 200_000 : 1_000_000;
const WINDOW_MS = 60_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

interface Growth {
  heapMb: number;
  rssMb: number;
  seconds: number;
}

/** Heap and RSS growth while `fill` runs, after full collections. */
async function growth(fill: () => Promise<void> | void): Promise<Growth> {
  (gc as () => void)();
  const before = process.memoryUsage();
  const started = performance.now();
  await fill();
  const seconds = (performance.now() - started) / 1000;
  (gc as () => void)();
  const after = process.memoryUsage();
  return {
    heapMb: (after.heapUsed - before.heapUsed) / 1024 / 1024,
    rssMb: (after.rss - before.rss) / 1024 / 1024,
    seconds,
  };
}

const key = (i: number) => `203.0.${(i >> 16) & 255}.${(i >> 8) & 255}:${i & 255}`;
const policy = { name: 'b', algorithm: 'fixed-window', limit: 100, windowMs: WINDOW_MS } as const;
const rows: string[][] = [];
const row = (name: string, g: Growth, kept: string) =>
  rows.push([name, g.heapMb.toFixed(0), g.rssMb.toFixed(0), kept, g.seconds.toFixed(1)]);

const ours = new MemoryRateLimitStore();
const oursGrowth = await growth(() => {
  for (let i = 0; i < DISTINCT; i++) ours.hit(key(i), policy, 1, Date.now());
});
row(
  `@org/security MemoryRateLimitStore (maxKeys ${ours.maxKeys.toLocaleString('en')}, the default)`,
  oursGrowth,
  ours.size.toLocaleString('en'),
);
const oursAll = new MemoryRateLimitStore({ maxKeys: DISTINCT });
row(
  `@org/security MemoryRateLimitStore (maxKeys ${DISTINCT.toLocaleString('en')}: no eviction, the cost of a key)`,
  await growth(() => {
    for (let i = 0; i < DISTINCT; i++) oursAll.hit(key(i), policy, 1, Date.now());
  }),
  oursAll.size.toLocaleString('en'),
);
oursAll.clear();
if (!quick) {
  const flexible = new RateLimiterMemory({ points: 100, duration: WINDOW_MS / 1000 });
  row(
    'rate-limiter-flexible RateLimiterMemory',
    await growth(async () => {
      for (let i = 0; i < DISTINCT; i++) await flexible.consume(key(i));
    }),
    'all, until each key expires',
  );
  const erl = new MemoryStore();
  erl.init({ windowMs: WINDOW_MS } as Parameters<MemoryStore['init']>[0]);
  row(
    'express-rate-limit MemoryStore',
    await growth(async () => {
      for (let i = 0; i < DISTINCT; i++) await erl.increment(key(i));
    }),
    'all, until the window ends',
  );
  erl.shutdown();
}
emit([
  {
    title: `Memory after ${DISTINCT.toLocaleString('en')} distinct keys`,
    header: ['store', 'heap growth MiB', 'RSS growth MiB', 'keys kept', 'seconds to fill'],
    rows,
  },
]);
process.exit(0);
