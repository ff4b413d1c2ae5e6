// The benchmark runner: `pnpm bench [all|http|micro|core|lease] [--quick]` (default: all).
// Starts the servers pinned to CPU 1 (alone, or side by side with those they are
// compared with, taking their rounds in turn), drives them with wrk pinned to CPU 0
// (redis-server shares CPU 0), warms up, runs timed rounds, checks every response
// was 2xx, and writes the tables to bench/results/.
//   all, http -> results/<date>.md and results/latest.json (the HTTP table)
//   micro     -> results/micro-<date>.md
//   core      -> results/core-<date>.md (issue 3: adapter overhead)
//   lease     -> results/lease-<date>.md (issue 30: the HTTP suite's leasing rows alone)
// --quick runs fewer variants, one short round each, and writes *-quick files.
// --rounds=N --seconds=N --warmup=N override the load settings; --quiet-wait=N is the
// longest wait, in seconds, for a quiet machine before each server (default 30, quick 0).
// --only=<framework>[:<alg>[:<store>]][,...] runs only the HTTP groups it names, with
// their framework's bare row, and writes results/<date>-only.md (latest.json is kept).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileServers } from './runner/compile.ts';
import { createRunKey, type RunKey } from './runner/keys.ts';
import { type RedisServer, startRedis } from './runner/redis.ts';
import type { Alg } from './servers/http/setup.ts';
import { here, LOAD_CPU, loadSettings, type RunSettings } from './suites/common.ts';
import { coreSuite } from './suites/core.ts';
import { type HttpRecord, httpPlan, httpSuite, leasePlan, selectGroups } from './suites/http.ts';
import { microSuite } from './suites/micro.ts';

const SUITES = ['all', 'http', 'micro', 'core', 'lease'] as const;
type Suite = (typeof SUITES)[number];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const option = (name: string): number | undefined => {
  const value = args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} needs a number; received ${value}`);
  return n;
};
const suite = (args.find((a) => !a.startsWith('--')) ?? 'all') as Suite;
if (!SUITES.includes(suite)) {
  console.error(`unknown suite "${suite}"; use one of: ${SUITES.join(', ')}`);
  process.exit(2);
}
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
if (only !== undefined && suite !== 'http') {
  console.error('--only selects HTTP groups: run it as `pnpm bench http --only=...`');
  process.exit(2);
}

function ensureTools(): void {
  const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
  const missing = ['wrk', 'taskset', 'redis-server'].filter((cmd) => !has(cmd));
  if (missing.length > 0) {
    if (process.getuid?.() === 0 && has('apt-get')) {
      execFileSync(
        'sh',
        ['-c', 'apt-get update -qq && apt-get install -y -qq wrk util-linux redis-server'],
        { stdio: 'inherit' },
      );
    } else {
      console.error(
        `The benchmarks need ${missing.join(', ')}: sudo apt-get install wrk util-linux redis-server`,
      );
      process.exit(1);
    }
  }
  const built = ['core', 'auth', 'security', 'observability'].every((name) =>
    existsSync(here(`../../../packages/${name}/dist/index.js`)),
  );
  if (!built) execFileSync('pnpm', ['build'], { cwd: here('../../..'), stdio: 'inherit' });
}

ensureTools();
const started = performance.now();
const date = new Date().toISOString().slice(0, 10);
const settings: RunSettings = {
  quick,
  load: loadSettings(quick, {
    ...(option('rounds') === undefined ? {} : { rounds: option('rounds') as number }),
    ...(option('seconds') === undefined ? {} : { seconds: option('seconds') as number }),
    ...(option('warmup') === undefined ? {} : { warmupSeconds: option('warmup') as number }),
  }),
  quietWaitMs: (option('quiet-wait') ?? (quick ? 0 : 30)) * 1000,
  scratch: await mkdtemp(join(tmpdir(), 'org-bench-')),
  serversDir: await compileServers(),
};
const load = loadavg()[0] ?? 0;
const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Linux, Node ${process.version}`;
const method = `Server pinned to CPU 1; wrk (1 thread, ${settings.load.connections} connections, keep-alive) and redis-server pinned to CPU 0. ${suite === 'core' ? 'Bare, hook and adapter run side by side and take their rounds in turn' : 'The stacks compared with each other (peer and ours, ours with each store) run side by side and take their rounds in turn (a, b, a, b), so a slow minute of the machine lands on both; bare runs alone; each server that uses Redis has its own redis-server'}: ${settings.load.warmupSeconds} s warm-up, then ${settings.load.rounds} round(s) of ${settings.load.seconds} s; req/s is the median round, spread is (max - min) / median, p50/p99 are wrk's, peak RSS is the server's VmHWM. Every response was checked to be 2xx.`;
const suffix = `${quick ? '-quick' : ''}${only === undefined ? '' : '-only'}`;
const flags = args.filter((a) => a.startsWith('--')).map((a) => ` ${a}`);
const command = (name: string) =>
  `\`pnpm bench${name === 'all' ? '' : ` ${name}`}${flags.join('')}\``;
const results = here('../../results');
await mkdir(results, { recursive: true });

let redis: RedisServer | undefined;
let redisSecond: RedisServer | undefined;
const sections: string[] = [];
let records: HttpRecord[] | undefined;
try {
  if (suite === 'core') {
    sections.push(`## Adapter overhead (issue 3)\n\n${await coreSuite(settings)}`);
  } else {
    redis = await startRedis(LOAD_CPU);
    // A second one: two servers of a group that both use Redis each get their own.
    redisSecond = await startRedis(LOAD_CPU);
    const redisPool = [redis, redisSecond];
    const keys: Record<Alg, RunKey> = {
      HS256: await createRunKey('HS256'),
      ES256: await createRunKey('ES256'),
    };
    if (suite === 'all' || suite === 'http') {
      const plan = httpPlan(quick);
      const http = await httpSuite(
        settings,
        keys,
        redisPool,
        only === undefined ? plan : selectGroups(plan, only),
      );
      records = http.records;
      const warnings = http.warnings.length
        ? `\n\nWarnings:\n\n${http.warnings.map((w) => `- ${w}`).join('\n')}`
        : '';
      sections.push(
        `## GET /users/me with a valid bearer token (issue 9)\n\nbare: the framework returning a small JSON object (node bare with the Redis store: the same plus one Redis GET per request, the floor under every Redis row). peer: the stack teams build from popular packages. ours: the toolkit doing the same work (verify the token, require a role, rate limit, security headers, request id, one access line to a file, route-template histogram). Every stack writes each response to its socket at once.\n\n${http.markdown}${warnings}`,
      );
    }
    if (suite === 'lease') {
      const lease = await httpSuite(settings, keys, redisPool, leasePlan());
      sections.push(
        `## Quota leasing (issue 30)\n\nours HS256 on each framework with the memory store, with the Redis store leasing slices of the quota (\`lease: true\`), and with the exact Redis store (one round trip per request), in the same run.\n\n${lease.markdown}`,
      );
    }
    if (suite === 'all' || suite === 'micro') {
      sections.push(
        `## Micro-benchmarks (issues 4, 5, 6)\n\n${await microSuite(settings, keys, redis)}`,
      );
    }
  }
} finally {
  await redis?.stop();
  await redisSecond?.stop();
  await rm(settings.scratch, { recursive: true, force: true });
}

const minutes = (performance.now() - started) / 60_000;
const report = `# Benchmarks, ${date}${quick ? ' (quick)' : ''}\n\nMachine: ${machine}; load average ${load.toFixed(2)} at start.\nCommand: ${command(suite)} (${minutes.toFixed(1)} min).\n${method}\n\n${sections.join('\n\n')}\n`;
const name = suite === 'all' || suite === 'http' ? `${date}${suffix}` : `${suite}-${date}${suffix}`;
const file = join(results, `${name}.md`);
await writeFile(file, report);
if (records !== undefined && only === undefined) {
  await writeFile(join(results, `latest${suffix}.json`), `${JSON.stringify(records, null, 2)}\n`);
}
console.log(`\n${report}\nwritten to ${file}`);
process.exit(0);
