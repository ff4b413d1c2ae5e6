import type { BenchServer } from './server.ts';
import { type LoadResult, runWrk } from './wrk.ts';

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
  /**
   * Server CPU time per response during the timed rounds, in microseconds: unlike
   * req/s it barely moves when other processes compete for the machine.
   */
  cpuUsPerRequest: number;
  failures: number;
  rounds: LoadResult[];
  /** Responses during warm-up (they are written to the access log too). */
  warmupRequests: number;
}

/** Called around the timed rounds, after warm-up (to snapshot counters). */
export interface MeasureHooks {
  beforeRounds?(): Promise<void>;
  afterRounds?(): Promise<void>;
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** Warms up, then runs timed rounds; every response must be 2xx. */
export async function measure(
  server: BenchServer,
  options: MeasureOptions,
  hooks: MeasureHooks = {},
): Promise<Measurement> {
  const target = {
    url: `${server.url}${options.path}`,
    connections: options.connections,
    cpu: options.loadCpu,
    ...(options.headers ? { headers: options.headers } : {}),
  };
  const warmup = await runWrk({ ...target, seconds: options.warmupSeconds });
  await hooks.beforeRounds?.();
  const cpuBefore = await server.cpuSeconds();
  const rounds: LoadResult[] = [];
  for (let i = 0; i < options.rounds; i++) {
    rounds.push(await runWrk({ ...target, seconds: options.seconds }));
  }
  const cpu = (await server.cpuSeconds()) - cpuBefore;
  await hooks.afterRounds?.();
  const requests = rounds.reduce((sum, r) => sum + r.requests, 0);
  const rps = rounds.map((r) => r.rps);
  const med = median(rps);
  return {
    rps: med,
    spreadPct: med > 0 ? ((Math.max(...rps) - Math.min(...rps)) / med) * 100 : 0,
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    peakRssMb: await server.peakRssMb(),
    cpuUsPerRequest: requests > 0 ? (cpu * 1e6) / requests : 0,
    failures: warmup.failures + rounds.reduce((sum, r) => sum + r.failures, 0),
    rounds,
    warmupRequests: warmup.requests,
  };
}
