// The benchmark runner: `pnpm bench [core] [--quick]`.
// Starts each server alone pinned to CPU 1, drives it with wrk pinned to CPU 0,
// warms up, runs timed rounds, checks every response was 2xx, writes a markdown table.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Measurement, measure } from './runner/measure.ts';
import { startServer } from './runner/server.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const suite = args.find((a) => !a.startsWith('--')) ?? 'core';
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const FRAMEWORKS = ['express', 'fastify', 'koa', 'hono', 'node'] as const;

function ensureTools(): void {
  const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
  if (!has('wrk') || !has('taskset')) {
    if (process.getuid?.() === 0 && has('apt-get')) {
      execFileSync('sh', ['-c', 'apt-get update -qq && apt-get install -y -qq wrk util-linux'], { stdio: 'inherit' });
    } else {
      console.error('The benchmarks need wrk and taskset: sudo apt-get install wrk util-linux');
      process.exit(1);
    }
  }
  if (!existsSync(here('../../packages/core/dist/index.js'))) {
    execFileSync('pnpm', ['build'], { cwd: here('../..'), stdio: 'inherit' });
  }
}

const load = {
  path: '/users/me',
  seconds: quick ? 3 : 10,
  warmupSeconds: quick ? 1 : 3,
  rounds: quick ? 2 : 3,
  connections: 64,
  loadCpu: 0,
};

async function coreSuite(): Promise<string> {
  const rows: string[] = [
    '| framework | bare req/s | adapter req/s | adapter / bare | spread (bare, adapter) | p50 ms (bare, adapter) | p99 ms (bare, adapter) | peak RSS MiB (bare, adapter) |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const framework of FRAMEWORKS) {
    const results: Record<string, Measurement> = {};
    for (const variant of ['bare', 'adapter']) {
      const server = await startServer(here('./servers/core.ts'), [framework, variant], 1);
      try {
        results[variant] = await measure(server, load);
      } finally {
        await server.stop();
      }
      const r = results[variant] as Measurement;
      if (r.failures > 0) throw new Error(`${framework} ${variant}: ${r.failures} responses were not 2xx`);
      console.log(`${framework} ${variant}: ${r.rps.toFixed(0)} req/s (±${r.spreadPct.toFixed(1)}%)`);
    }
    const bare = results.bare as Measurement;
    const ours = results.adapter as Measurement;
    const f = (n: number, d = 0) => n.toFixed(d);
    rows.push(
      `| ${framework} | ${f(bare.rps)} | ${f(ours.rps)} | **${f(ours.rps / bare.rps, 2)}x** | ${f(bare.spreadPct, 1)}%, ${f(ours.spreadPct, 1)}% | ${f(bare.p50Ms, 2)}, ${f(ours.p50Ms, 2)} | ${f(bare.p99Ms, 2)}, ${f(ours.p99Ms, 2)} | ${f(bare.peakRssMb)}, ${f(ours.peakRssMb)} |`,
    );
  }
  return rows.join('\n');
}

ensureTools();
const started = new Date();
const date = started.toISOString().slice(0, 10);
let table: string;
switch (suite) {
  case 'core':
    table = await coreSuite();
    break;
  default:
    console.error(`unknown suite "${suite}"; use: core`);
    process.exit(2);
}
const machine = `${(await import('node:os')).cpus()[0]?.model ?? 'unknown CPU'}, ${(await import('node:os')).cpus().length} cores, Node ${process.version}`;
const report = `# ${suite} benchmark, ${date}\n\nMachine: ${machine}. Server pinned to CPU 1, wrk (1 thread, ${load.connections} connections) pinned to CPU 0; ${load.rounds} rounds of ${load.seconds}s after ${load.warmupSeconds}s warm-up; median shown.\nCommand: \`pnpm bench${suite === 'core' ? ':core' : ''}${quick ? ' --quick' : ''}\`\n\n${table}\n`;
await mkdir(here('../results'), { recursive: true });
const file = here(`../results/${suite}-${date}.md`);
await writeFile(file, report);
console.log(`\n${report}\nwritten to ${file}`);
