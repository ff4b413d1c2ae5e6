// Issue 3: each framework bare vs the same route through the adapter with one dependency.
import { join } from 'node:path';
import { type Measurement, measureInterleaved } from '../runner/measure.ts';
import { type BenchServer, startServer } from '../runner/server.ts';
import { FRAMEWORKS, fixed, type RunSettings, SERVER_CPU, table } from './common.ts';

const VARIANTS = ['bare', 'adapter'] as const;

export async function coreSuite(settings: RunSettings): Promise<string> {
  const rows: string[][] = [];
  for (const framework of FRAMEWORKS) {
    // Both servers run at once and take their rounds in turn: the ratio is what counts.
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
