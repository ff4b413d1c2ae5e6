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

/**
 * `a`'s req/s over `b`'s, for two servers measured side by side by
 * {@link measureInterleaved}: the median of the ratios of rounds run one after the
 * other, so a slow minute of the machine (this VM's CPUs slow down by half for
 * minutes at a time) divides out instead of landing on one median. Servers measured
 * apart fall back to the ratio of their medians.
 */
export function pairedRatio(a: Measurement, b: Measurement): number {
  if (a.rounds.length !== b.rounds.length || a.rounds.length === 0) return a.rps / b.rps;
  return median(a.rounds.map((round, i) => round.rps / (b.rounds[i] as LoadResult).rps));
}

/** Warms up, then runs timed rounds; every response must be 2xx. */
export async function measure(
  server: BenchServer,
  options: MeasureOptions,
  hooks: MeasureHooks = {},
): Promise<Measurement> {
  return (await measureInterleaved([server], options, hooks))[0] as Measurement;
}

/**
 * Measures several servers that run at once, taking their rounds in turn (a, b, a, b,
 * ...), so a slow minute of the machine lands on all of them alike and their ratios
 * hold even when absolute req/s drift. Idle servers cost nothing while another is loaded.
 */
export async function measureInterleaved(
  servers: readonly BenchServer[],
  options: MeasureOptions,
  hooks: MeasureHooks = {},
): Promise<Measurement[]> {
  const targets = servers.map((server) => ({
    url: `${server.url}${options.path}`,
    connections: options.connections,
    cpu: options.loadCpu,
    ...(options.headers ? { headers: options.headers } : {}),
  }));
  const warmups: LoadResult[] = [];
  for (const target of targets)
    warmups.push(await runWrk({ ...target, seconds: options.warmupSeconds }));
  await hooks.beforeRounds?.();
  const cpuBefore = await Promise.all(servers.map((server) => server.cpuSeconds()));
  const rounds: LoadResult[][] = servers.map(() => []);
  for (let i = 0; i < options.rounds; i++) {
    for (const [at, target] of targets.entries()) {
      rounds[at]?.push(await runWrk({ ...target, seconds: options.seconds }));
    }
  }
  const cpuAfter = await Promise.all(servers.map((server) => server.cpuSeconds()));
  await hooks.afterRounds?.();
  return Promise.all(
    servers.map(async (server, at) => {
      const own = rounds[at] as LoadResult[];
      const warmup = warmups[at] as LoadResult;
      const cpu = (cpuAfter[at] as number) - (cpuBefore[at] as number);
      const requests = own.reduce((sum, r) => sum + r.requests, 0);
      const rps = own.map((r) => r.rps);
      const med = median(rps);
      return {
        rps: med,
        spreadPct: med > 0 ? ((Math.max(...rps) - Math.min(...rps)) / med) * 100 : 0,
        p50Ms: median(own.map((r) => r.p50Ms)),
        p99Ms: median(own.map((r) => r.p99Ms)),
        peakRssMb: await server.peakRssMb(),
        cpuUsPerRequest: requests > 0 ? (cpu * 1e6) / requests : 0,
        failures: warmup.failures + own.reduce((sum, r) => sum + r.failures, 0),
        rounds: own,
        warmupRequests: warmup.requests,
      };
    }),
  );
}
