// Issue 3: each framework bare vs the same route through the adapter with one dependency.
import { join } from 'node:path';
import { type Measurement, measure } from '../runner/measure.ts';
import { startServer } from '../runner/server.ts';
import { FRAMEWORKS, fixed, type RunSettings, SERVER_CPU, table } from './common.ts';

export async function coreSuite(settings: RunSettings): Promise<string> {
  const rows: string[][] = [];
  for (const framework of FRAMEWORKS) {
    const results: Record<string, Measurement> = {};
    for (const variant of ['bare', 'adapter']) {
      const server = await startServer(
        join(settings.serversDir, 'core.mjs'),
        [framework, variant],
        SERVER_CPU,
      );
      let r: Measurement;
      try {
        r = await measure(server, settings.load);
      } finally {
        await server.stop();
      }
      if (r.failures > 0)
        throw new Error(`${framework} ${variant}: ${r.failures} responses were not 2xx`);
      results[variant] = r;
      console.log(
        `${framework} ${variant}: ${r.rps.toFixed(0)} req/s (±${r.spreadPct.toFixed(1)}%)`,
      );
    }
    const bare = results.bare as Measurement;
    const ours = results.adapter as Measurement;
    rows.push([
      framework,
      fixed(bare.rps),
      fixed(ours.rps),
      `**${fixed(ours.rps / bare.rps, 2)}x**`,
      `${fixed(bare.spreadPct, 1)}%, ${fixed(ours.spreadPct, 1)}%`,
      `${fixed(bare.p50Ms, 2)}, ${fixed(ours.p50Ms, 2)}`,
      `${fixed(bare.p99Ms, 2)}, ${fixed(ours.p99Ms, 2)}`,
      `${fixed(bare.peakRssMb)}, ${fixed(ours.peakRssMb)}`,
    ]);
  }
  return table(
    [
      'framework',
      'bare req/s',
      'adapter req/s',
      'adapter / bare',
      'spread (bare, adapter)',
      'p50 ms (bare, adapter)',
      'p99 ms (bare, adapter)',
      'peak RSS MiB (bare, adapter)',
    ],
    rows,
  );
}
