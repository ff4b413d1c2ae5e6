// Profiles one HTTP benchmark server under load: `pnpm --dir bench bench:profile <framework> <stack>
// [HS256|ES256] [memory|redis] [seconds] [--measure] [--autocannon]` (the stacks in
// servers/core-stacks.ts, `hook` and the `adapter` variants, are bench:core's servers).
// Starts the server pinned to CPU 1 with --cpu-prof, drives it with wrk from CPU 0, stops it, and prints the functions and files with the
// most self time. The .cpuprofile is kept for a flame graph (Chrome DevTools, speedscope).
// With --measure it only measures (no profiler, no overhead): the quick A/B of one change,
// as req/s and server CPU µs per request, split into user and system time (the system
// part grows when a slower server has to wake the load generator more often).
// --autocannon drives the load with autocannon instead of wrk: the cross-check that a
// ratio does not come from the load generator.
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAutocannon } from './runner/autocannon.ts';
import { compileServers } from './runner/compile.ts';
import { createRunKey } from './runner/keys.ts';
import { startRedis } from './runner/redis.ts';
import { startServer } from './runner/server.ts';
import { runWrk } from './runner/wrk.ts';
import { CORE_STACKS } from './servers/core-stacks.ts';
import type { Alg, ServerSetup, StoreKind } from './servers/http/setup.ts';
import { LOAD_CPU, loadSettings, SERVER_CPU } from './suites/common.ts';

const measureOnly = process.argv.includes('--measure');
const runLoad = process.argv.includes('--autocannon') ? runAutocannon : runWrk;
const [framework = 'node', stack = 'ours', alg = 'HS256', store = 'memory', secondsText = '8'] =
  process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const scratch = await mkdtemp(join(tmpdir(), 'bench-profile-'));
const serversDir = await compileServers();
const runKey = await createRunKey(alg as Alg);
const redis = store === 'redis' || store === 'redis-lease' ? await startRedis(LOAD_CPU) : undefined;
const setup: ServerSetup = {
  key: runKey.key,
  store: store as StoreKind,
  ...(redis ? { redisPort: redis.port } : {}),
  logFile: join(scratch, 'access.log'),
  statsFile: join(scratch, 'stats.json'),
};
const script = CORE_STACKS.has(stack) ? 'core.mjs' : 'http.mjs';
const server = await startServer(join(serversDir, script), [framework, stack], SERVER_CPU, {
  BENCH_SETUP: JSON.stringify(setup),
  ...(measureOnly ? {} : { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${scratch}` }),
});
const load = {
  url: `${server.url}/users/me`,
  connections: loadSettings(false).connections,
  cpu: LOAD_CPU,
  headers: { authorization: `Bearer ${runKey.token}` },
};
const idleRssMb = await server.peakRssMb();
await runLoad({ ...load, seconds: 2 });
const cpuBefore = await server.cpuTimes();
const result = await runLoad({ ...load, seconds: Number(secondsText) });
const cpuAfter = await server.cpuTimes();
/** µs per request of one kind of CPU time, to one decimal. */
const perRequest = (seconds: number) => ((seconds * 1e6) / result.requests).toFixed(1);
const userUs = perRequest(cpuAfter.user - cpuBefore.user);
const systemUs = perRequest(cpuAfter.system - cpuBefore.system);
const totalUs = perRequest(cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system);
const peakRssMb = await server.peakRssMb();
await server.stop();
await redis?.stop();
console.log(
  `${framework} ${stack} ${alg} ${store}: ${Math.round(result.rps)} req/s, ` +
    `${totalUs} CPU µs/req (user ${userUs}, system ${systemUs}), ${result.failures} failures, ` +
    `peak RSS ${Math.round(peakRssMb)} MiB (${Math.round(idleRssMb)} MiB before load)`,
);
if (measureOnly) process.exit(0);

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
}
const file = (await readdir(scratch)).find((name) => name.endsWith('.cpuprofile'));
if (file === undefined) throw new Error('the server wrote no .cpuprofile');
const profile = JSON.parse(await readFile(join(scratch, file), 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
/** `function path:line`, with node_modules and the workspace's packages/ prefix cut. */
const frameOf = (id: number) => {
  const { functionName, url, lineNumber } = (byId.get(id) as ProfileNode).callFrame;
  const where = url
    .replace(/^file:\/\//, '')
    .replace(/.*node_modules\/(\.pnpm\/)?/, '')
    .replace(/.*\/packages\//, '');
  return {
    name: `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`,
    functionName,
    where,
    url,
  };
};
const functions = new Map<string, number>();
const files = new Map<string, number>();
for (const id of profile.samples) {
  const { name, functionName, where } = frameOf(id);
  functions.set(name, (functions.get(name) ?? 0) + 1);
  const group = where === '' ? `(${functionName})` : where;
  files.set(group, (files.get(group) ?? 0) + 1);
}
// Inclusive time: each sample counts once for every distinct function on its stack.
const parents = new Map<number, number>();
for (const node of profile.nodes)
  for (const child of node.children ?? []) parents.set(child, node.id);
const inclusive = new Map<string, number>();
for (const id of profile.samples) {
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
    const { name, url } = frameOf(at);
    if (/packages\/|\.servers\/|pino|prom-client|sonic-boom/.test(url)) seen.add(name);
  }
  for (const name of seen) inclusive.set(name, (inclusive.get(name) ?? 0) + 1);
}
const total = profile.samples.length;
const top = (counts: Map<string, number>, n: number) =>
  [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, count]) => `${((100 * count) / total).toFixed(1).padStart(5)}%  ${name}`)
    .join('\n');
console.log(`\nself time by function (of ${total} samples):\n${top(functions, 40)}`);
console.log(`\nself time by file:\n${top(files, 25)}`);
console.log(`\ninclusive time, toolkit and logging/metrics code:\n${top(inclusive, 40)}`);
console.log(`\nprofile: ${join(scratch, file)}`);
