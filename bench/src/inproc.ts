// The server's JavaScript cost per request, without the kernel or a load generator:
//   pnpm --dir bench bench:inproc <framework> <stack> [<stack> ...] [--rounds=5] [--seconds=3] [--alg=HS256]
//     [--store=memory|redis|redis-lease[,...]] [--builds=<package>:<dist dir>,<dist dir>]
// Several stores compare the same stack on each (interleaved rounds); Redis, when one is
// named, runs on the other core.
// --builds=<package>:<dist dir>,<dist dir>[,...] compares builds of one package (copies of
// its dist/, say before and after a change) in interleaved rounds, each round's figures
// divided by the first build's: an A/B that a slow minute of the VM lands on both sides of.
// The package's own dist/ is put back at the end.
// Stacks are the HTTP suite's (bare, peer, ours) and the core suite's (hook and the
// adapter variants, in servers/core-stacks.ts).
// Each server runs in its own process with servers/in-process.ts preloaded, pinned to
// one core; rounds interleave the stacks. Prints the median CPU µs per request and the
// spread: the quick A/B for a change to a hot path (`--builds`, above),
// where wrk's figures on this VM move by 10% from run to run.
import { spawn } from 'node:child_process';
import { cpSync, renameSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { compileServers } from './runner/compile.ts';
import { createRunKey } from './runner/keys.ts';
import { median } from './runner/measure.ts';
import { startRedis } from './runner/redis.ts';
import { CORE_STACKS } from './servers/core-stacks.ts';
import type { Alg, ServerSetup, StoreKind } from './servers/http/setup.ts';
import { here, LOAD_CPU, SERVER_CPU, table } from './suites/common.ts';

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

/** `--builds`: the package whose dist/ is swapped, and the builds to swap in. */
const builds = (() => {
  const text = options.get('builds');
  if (text === undefined) return undefined;
  const [name = '', dirs = ''] = text.split(':');
  const dist = here(`../../../packages/${name}/dist`);
  // Beside it, not in the temp folder: a rename cannot cross file systems.
  const saved = `${dist}.inproc-saved`;
  renameSync(dist, saved);
  process.once('exit', () => {
    rmSync(dist, { recursive: true, force: true });
    renameSync(saved, dist);
  });
  process.once('SIGINT', () => process.exit(130));
  return { dist, dirs: dirs.split(',').map((dir) => resolve(dir)) };
})();

interface Variant {
  stack: string;
  store: StoreKind;
  build?: string;
}
const variants: Variant[] = stacks.flatMap((stack) =>
  stores.flatMap((store) =>
    builds === undefined
      ? [{ stack, store }]
      : builds.dirs.map((build) => ({ stack, store, build })),
  ),
);
const label = ({ stack, store, build }: Variant) =>
  `${framework} ${stack}${stores.length === 1 ? '' : ` ${store}`}${build === undefined ? '' : ` @${basename(build)}`}`;
const samples = new Map<string, number[]>(variants.map((variant) => [label(variant), []]));
for (let round = 0; round < rounds; round++) {
  for (const variant of variants) {
    if (builds !== undefined && variant.build !== undefined) {
      rmSync(builds.dist, { recursive: true, force: true });
      cpSync(variant.build, builds.dist, { recursive: true });
    }
    const result = await run(variant.stack, variant.store);
    if (result.failed > 0) throw new Error(`${label(variant)}: ${result.failed} responses not 2xx`);
    samples.get(label(variant))?.push(result.cpuUsPerRequest);
  }
}
await redis?.stop();
/** Each round's figure over the same round's first build's (`--builds`). */
const pairedToFirst = (variant: Variant, first: string): string => {
  const own = samples.get(label(variant)) as number[];
  const base = samples.get(label({ ...variant, build: first })) as number[];
  return `${median(own.map((value, i) => value / (base[i] as number))).toFixed(3)}x`;
};
const firstBuild = builds?.dirs[0];
console.log(
  table(
    [
      'server',
      'CPU µs/req (median)',
      'min - max',
      'rounds',
      ...(firstBuild === undefined ? [] : ['/ first build (paired)']),
    ],
    variants.map((variant) => {
      const values = samples.get(label(variant)) as number[];
      return [
        label(variant),
        median(values).toFixed(2),
        `${Math.min(...values).toFixed(2)} - ${Math.max(...values).toFixed(2)}`,
        String(values.length),
        ...(firstBuild === undefined ? [] : [pairedToFirst(variant, firstBuild)]),
      ];
    }),
  ),
);
