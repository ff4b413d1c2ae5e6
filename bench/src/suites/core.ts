// Issue 3: each framework bare vs the same route through the adapter with one dependency,
// and bare behind one pass-through hook (what the framework charges any every-request feature).
import { join } from 'node:path';
import { type Measurement, measureInterleaved, pairedRatio } from '../runner/measure.ts';
import { type BenchServer, startServer } from '../runner/server.ts';
import { FRAMEWORKS, fixed, type RunSettings, SERVER_CPU, table } from './common.ts';

const VARIANTS = ['bare', 'hook', 'adapter'] as const;

/** µs of pure CPU work per request in the calibration servers. */
const WORK_MICROS = [1, 2, 5, 10, 20] as const;

/**
 * Bare node:http next to the same server plus a fixed amount of CPU work per request,
 * measured together: on a given machine it tells what a ratio to bare costs in
 * microseconds (per-request I/O costs more as throughput falls, so the answer is
 * machine-specific).
 */
async function calibration(settings: RunSettings): Promise<string> {
  const variants = ['bare', ...WORK_MICROS.map((micros) => `work:${micros}`)];
  const servers: BenchServer[] = [];
  let measured: Measurement[];
  try {
    for (const variant of variants) {
      servers.push(
        await startServer(join(settings.serversDir, 'core.mjs'), ['node', variant], SERVER_CPU),
      );
    }
    measured = await measureInterleaved(servers, settings.load);
  } finally {
    for (const server of servers) await server.stop();
  }
  const bare = measured[0] as Measurement;
  const rows = variants.map((variant, at) => {
    const r = measured[at] as Measurement;
    if (r.failures > 0) throw new Error(`node ${variant}: ${r.failures} responses were not 2xx`);
    console.log(`node ${variant}: ${r.rps.toFixed(0)} req/s (±${r.spreadPct.toFixed(1)}%)`);
    return [
      variant === 'bare' ? '0 (bare)' : variant.slice('work:'.length),
      fixed(r.rps),
      `**${fixed(pairedRatio(r, bare), 2)}x**`,
      fixed(r.cpuUsPerRequest, 1),
      fixed(r.spreadPct, 1),
    ];
  });
  return table(
    ['CPU work per request (µs)', 'req/s', '/ bare', 'server CPU µs/req', 'spread %'],
    rows,
  );
}

export async function coreSuite(settings: RunSettings): Promise<string> {
  const rows: string[][] = [];
  for (const framework of FRAMEWORKS) {
    // The servers run at once and take their rounds in turn: the ratios are what count.
    const servers: BenchServer[] = [];
    let measured: Measurement[];
    try {
      for (const variant of VARIANTS) {
        servers.push(
          await startServer(
            join(settings.serversDir, 'core.mjs'),
            [framework, variant],
            SERVER_CPU,
          ),
        );
      }
      measured = await measureInterleaved(servers, settings.load);
    } finally {
      for (const server of servers) await server.stop();
    }
    const results: Record<string, Measurement> = {};
    for (const [at, variant] of VARIANTS.entries()) {
      const r = measured[at] as Measurement;
      if (r.failures > 0)
        throw new Error(`${framework} ${variant}: ${r.failures} responses were not 2xx`);
      results[variant] = r;
      console.log(
        `${framework} ${variant}: ${r.rps.toFixed(0)} req/s (±${r.spreadPct.toFixed(1)}%)`,
      );
    }
    const bare = results.bare as Measurement;
    const hook = results.hook as Measurement;
    const ours = results.adapter as Measurement;
    const all = [bare, hook, ours];
    rows.push([
      framework,
      fixed(bare.rps),
      fixed(hook.rps),
      fixed(ours.rps),
      `**${fixed(pairedRatio(ours, bare), 2)}x**`,
      `${fixed(pairedRatio(hook, bare), 2)}x`,
      `${fixed(pairedRatio(ours, hook), 2)}x`,
      all.map((r) => `${fixed(r.spreadPct, 1)}%`).join(', '),
      all.map((r) => fixed(r.p50Ms, 2)).join(', '),
      all.map((r) => fixed(r.p99Ms, 2)).join(', '),
      all.map((r) => fixed(r.peakRssMb)).join(', '),
    ]);
  }
  const overhead = table(
    [
      'framework',
      'bare req/s',
      'hook req/s',
      'adapter req/s',
      'adapter / bare',
      'hook / bare',
      'adapter / hook',
      'spread (bare, hook, adapter)',
      'p50 ms (bare, hook, adapter)',
      'p99 ms (bare, hook, adapter)',
      'peak RSS MiB (bare, hook, adapter)',
    ],
    rows,
  );
  return `bare: the framework returning a small JSON object. hook: the same behind one pass-through hook installed the framework's way (\`app.use\` on express, koa and hono, an \`onRequest\` hook on fastify; node:http has none, so its row is bare node:http again, a second measure of the same server), the least any feature that runs for every request costs before it does anything. adapter: the route through the toolkit's adapter with one dependency, with the toolkit's defaults; every response is written to its socket at once, as bare writes it.

${overhead}

### Calibration: what a cost per request does to req/s here

Bare node:http, and the same server with a fixed busy loop per request, measured side by side. Read a ratio above against it: the adapter rows are the price of that much CPU per request on this machine.

${await calibration(settings)}`;
}
