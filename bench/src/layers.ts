// What each layer of the toolkit costs per request: node:http through @org/core/node with
// no layer, each layer alone, and all of them, measured in turn (rounds interleave the
// variants). Usage: pnpm --dir bench bench:layers [rounds=2] [seconds=4]
// Prints req/s and the server's CPU µs per request, and each layer's CPU above none.
import { join } from 'node:path';
import { compileServers } from './runner/compile.ts';
import { createRunKey } from './runner/keys.ts';
import { median } from './runner/measure.ts';
import { startServer } from './runner/server.ts';
import { runWrk } from './runner/wrk.ts';
import { LAYERS } from './servers/http/ours.ts';
import { LOAD_CPU, loadSettings, SERVER_CPU, table, thousands } from './suites/common.ts';

const [roundsText = '2', secondsText = '4'] = process.argv.slice(2);
const variants = ['', 'auth', ...LAYERS, ['auth', ...LAYERS].join(',')];
const serversDir = await compileServers();
const runKey = await createRunKey('HS256');
const setup = {
  key: runKey.key,
  store: 'memory',
  logFile: join(serversDir, 'layers-access.log'),
  statsFile: join(serversDir, 'layers-stats.json'),
};
const samples = new Map<string, { rps: number[]; cpuUs: number[] }>();
for (let round = 0; round < Number(roundsText); round++) {
  for (const layers of variants) {
    const server = await startServer(join(serversDir, 'http.mjs'), ['node', 'layers'], SERVER_CPU, {
      BENCH_SETUP: JSON.stringify(setup),
      BENCH_LAYERS: layers,
    });
    const load = {
      url: `${server.url}/users/me`,
      connections: loadSettings(false).connections,
      cpu: LOAD_CPU,
      headers: { authorization: `Bearer ${runKey.token}` },
    };
    await runWrk({ ...load, seconds: 2 });
    const cpuBefore = await server.cpuSeconds();
    const result = await runWrk({ ...load, seconds: Number(secondsText) });
    const cpuUs = ((await server.cpuSeconds()) - cpuBefore) * 1e6;
    await server.stop();
    if (result.failures > 0) throw new Error(`${layers || 'none'}: ${result.failures} failures`);
    const sample = samples.get(layers) ?? { rps: [], cpuUs: [] };
    sample.rps.push(result.rps);
    sample.cpuUs.push(cpuUs / result.requests);
    samples.set(layers, sample);
  }
}
const none = median(samples.get('')?.cpuUs ?? [0]);
console.log(
  table(
    ['layers', 'req/s', 'CPU µs/req', 'CPU µs above none'],
    variants.map((layers) => {
      const { rps, cpuUs } = samples.get(layers) as { rps: number[]; cpuUs: number[] };
      const cpu = median(cpuUs);
      return [
        layers === '' ? 'none (adapter, one route)' : layers.replaceAll(',', ', '),
        thousands(median(rps)),
        cpu.toFixed(1),
        layers === '' ? '-' : `+${(cpu - none).toFixed(1)}`,
      ];
    }),
  ),
);
process.exit(0);
