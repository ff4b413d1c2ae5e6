// The server's JavaScript cost per request, without the kernel or a load generator:
//   pnpm --dir bench bench:inproc <framework> <stack> [<stack> ...] [--rounds=5] [--seconds=3] [--alg=HS256]
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
import { CORE_STACKS } from './servers/core-stacks.ts';
import type { Alg } from './servers/http/setup.ts';
import { SERVER_CPU, table } from './suites/common.ts';

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
const setup = {
  key: runKey.key,
  store: 'memory',
  logFile: join(serversDir, 'inproc-access.log'),
  statsFile: join(serversDir, 'inproc-stats.json'),
};

interface Result {
  requests: number;
  failed: number;
  rps: number;
  cpuUsPerRequest: number;
}

function run(stack: string): Promise<Result> {
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
          BENCH_SETUP: JSON.stringify(setup),
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

const samples = new Map<string, number[]>(stacks.map((stack) => [stack, []]));
for (let round = 0; round < rounds; round++) {
  for (const stack of stacks) {
    const result = await run(stack);
    if (result.failed > 0)
      throw new Error(`${framework} ${stack}: ${result.failed} responses not 2xx`);
    samples.get(stack)?.push(result.cpuUsPerRequest);
  }
}
console.log(
  table(
    ['server', 'CPU µs/req (median)', 'min - max', 'rounds'],
    stacks.map((stack) => {
      const values = samples.get(stack) as number[];
      return [
        `${framework} ${stack}`,
        median(values).toFixed(2),
        `${Math.min(...values).toFixed(2)} - ${Math.max(...values).toFixed(2)}`,
        String(values.length),
      ];
    }),
  ),
);
