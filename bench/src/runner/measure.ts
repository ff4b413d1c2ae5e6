import { type LoadResult, runWrk } from './wrk.ts';
import type { BenchServer } from './server.ts';

/** Load settings shared by every server of one run. */
export interface MeasureOptions {
  path: string;
  seconds: number;
  warmupSeconds: number;
  rounds: number;
  connections: number;
  loadCpu: number;
  headers?: Readonly<Record<string, string>>;
}

/** Median and spread of several rounds against one server. */
export interface Measurement {
  rps: number;
  /** (max - min) / median of req/s across rounds, in percent. */
  spreadPct: number;
  p50Ms: number;
  p99Ms: number;
  peakRssMb: number;
  failures: number;
  rounds: LoadResult[];
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** Warms up, then runs timed rounds; every response must be 2xx. */
export async function measure(server: BenchServer, options: MeasureOptions): Promise<Measurement> {
  const target = {
    url: `${server.url}${options.path}`,
    connections: options.connections,
    cpu: options.loadCpu,
    ...(options.headers ? { headers: options.headers } : {}),
  };
  await runWrk({ ...target, seconds: options.warmupSeconds });
  const rounds: LoadResult[] = [];
  for (let i = 0; i < options.rounds; i++) rounds.push(await runWrk({ ...target, seconds: options.seconds }));
  const rps = rounds.map((r) => r.rps);
  const med = median(rps);
  return {
    rps: med,
    spreadPct: med > 0 ? ((Math.max(...rps) - Math.min(...rps)) / med) * 100 : 0,
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    peakRssMb: await server.peakRssMb(),
    failures: rounds.reduce((sum, r) => sum + r.failures, 0),
    rounds,
  };
}
