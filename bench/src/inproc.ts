// The server's JavaScript cost per request, without the kernel or a load generator:
//   pnpm --dir bench bench:inproc <framework> <stack> [<stack> ...] [--rounds=5] [--seconds=3] [--alg=HS256]
//     [--store=memory|redis|redis-lease[,...]]
// Several stores compare the same stack on each (interleaved rounds); Redis, when one is
// named, runs on the other core.
// Stacks are the HTTP suite's (bare, peer, ours) and the core suite's (hook and the
// adapter variants, in servers/core-stacks.ts).
// Each server runs in its own process with servers/in-process.ts preloaded, pinned to
// one core; rounds interleave the stacks. Prints the median CPU µs per request and the
// spread: the quick A/B for a change to a hot path (swap a package's dist between runs),
// where wrk's figures on this VM move by 10% from run to run.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { compileServers } from './runner/compile.ts';
import { createRunKey } from './runner/keys.ts';
import { median } from './runner/measure.ts';
import { startRedis } from './runner/redis.ts';
import { CORE_STACKS } from './servers/core-stacks.ts';
import type { Alg, ServerSetup, StoreKind } from './servers/http/setup.ts';
import { LOAD_CPU, SERVER_CPU, table } from './suites/common.ts';

const options = new Map(
  process.argv
    .slice(2)
    .filter((arg) => arg.startsWith('--'))
    .map((arg) => arg.slice(2).split('=') as [string, string]),
);
const [framework = 'node', ...stacks] = process.argv
  .slice(2)
  .filter((arg) => !arg.startsWith('--'));
if (stacks.length === 0) stacks.push('ours');
const rounds = Number(options.get('rounds') ?? '5');
const seconds = options.get('seconds') ?? '3';
const serversDir = await compileServers();
const runKey = await createRunKey((options.get('alg') ?? 'HS256') as Alg);
const stores = (options.get('store') ?? 'memory').split(',') as StoreKind[];
const redis = stores.some((store) => store !== 'memory') ? await startRedis(LOAD_CPU) : undefined;
const setupFor = (store: StoreKind): ServerSetup => ({
  key: runKey.key,
  store,
  ...(redis === undefined ? {} : { redisPort: redis.port }),
  logFile: join(serversDir, 'inproc-access.log'),
  statsFile: join(serversDir, 'inproc-stats.json'),
});

interface Result {
  requests: number;
  failed: number;
  rps: number;
  cpuUsPerRequest: number;
}

function run(stack: string, store: StoreKind): Promise<Result> {
  const script = join(serversDir, CORE_STACKS.has(stack) ? 'core.mjs' : 'http.mjs');
  return new Promise((resolve, reject) => {
    const child = spawn(
      'taskset',
      [
        '-c',
        String(SERVER_CPU),
        process.execPath,
        '--import',
        join(serversDir, 'in-process.mjs'),
        script,
        framework,
        stack,
        '0',
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: {
          ...process.env,
          NODE_ENV: 'production',
          BENCH_SETUP: JSON.stringify(setupFor(store)),
          INPROC_TOKEN: runKey.token,
          INPROC_SECONDS: seconds,
        },
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => {
      const line = output.split('\n').find((text) => text.startsWith('inproc '));
      if (line === undefined) reject(new Error(`${framework} ${stack} exited with ${code}`));
      else resolve(JSON.parse(line.slice('inproc '.length)) as Result);
    });
  });
}

const variants = stacks.flatMap((stack) => stores.map((store) => ({ stack, store })));
const label = ({ stack, store }: { stack: string; store: StoreKind }) =>
  stores.length === 1 ? `${framework} ${stack}` : `${framework} ${stack} ${store}`;
const samples = new Map<string, number[]>(variants.map((variant) => [label(variant), []]));
for (let round = 0; round < rounds; round++) {
  for (const variant of variants) {
    const result = await run(variant.stack, variant.store);
    if (result.failed > 0) throw new Error(`${label(variant)}: ${result.failed} responses not 2xx`);
    samples.get(label(variant))?.push(result.cpuUsPerRequest);
  }
}
await redis?.stop();
console.log(
  table(
    ['server', 'CPU µs/req (median)', 'min - max', 'rounds'],
    [...samples.keys()].map((name) => {
      const values = samples.get(name) as number[];
      return [
        name,
        median(values).toFixed(2),
        `${Math.min(...values).toFixed(2)} - ${Math.max(...values).toFixed(2)}`,
        String(values.length),
      ];
    }),
  ),
);
