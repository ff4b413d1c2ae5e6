// Measures one HTTP benchmark server (servers/http.ts): start it alone, load it, read
// its peak RSS, the Redis commands it caused per request and its access-log lines.
import { join } from 'node:path';
import { type Measurement, measureInterleaved } from '../runner/measure.ts';
import { waitForQuiet } from '../runner/quiet.ts';
import { perUnit, type RedisServer } from '../runner/redis.ts';
import { type BenchServer, startServer } from '../runner/server.ts';
import type { Alg, KeyMaterial, ServerSetup, StoreKind } from '../servers/http/setup.ts';
import {
  countLinesAndRemove,
  type FrameworkName,
  type RunSettings,
  SERVER_CPU,
  serverStats,
} from './common.ts';

/** One server of a suite. */
export interface Variant {
  readonly framework: FrameworkName;
  readonly stack: 'bare' | 'peer' | 'ours' | 'peer-obs' | 'ours-obs';
  readonly alg: Alg | null;
  readonly store: StoreKind | null;
}

/** Redis traffic per request during the timed rounds. */
export interface RedisUse {
  /** Commands the server's client sent (round trips when not pipelined). */
  readonly sentPerRequest: number;
  /** Commands Redis executed, script-internal ones included (INFO commandstats). */
  readonly executedPerRequest: number;
  /** Executed commands per request, by name. */
  readonly breakdown: string;
}

export interface ServerResult {
  readonly variant: Variant;
  readonly measurement: Measurement;
  readonly redis: RedisUse | undefined;
  /** Share of the machine busy just before the server started (0 to 1). */
  readonly busyBefore: number;
  /** Problems that do not invalidate the numbers but must be read (missing log lines). */
  readonly warnings: readonly string[];
}

/** Below this share of both CPUs busy, the machine counts as quiet. */
const QUIET_THRESHOLD = 0.1;

export const label = (v: Variant): string =>
  [v.framework, v.stack, v.alg, v.store].filter((part) => part !== null).join(' ');

/**
 * Starts a server, retrying twice 15 s apart: a package being rebuilt (its dist/
 * emptied for a moment) must not end a 40-minute run.
 */
async function startWithRetry(start: () => Promise<BenchServer>): Promise<BenchServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt === 3) throw error;
      console.warn(`  ${(error as Error).message}; retrying in 15 s`);
      await new Promise((resolve) => setTimeout(resolve, 15_000));
    }
  }
}

/** Above this spread of req/s across rounds, a full run measures the servers again. */
const MAX_SPREAD_PCT = 10;

/** One server alone: {@link measureGroup} of one. */
export async function measureServer(
  settings: RunSettings,
  variant: Variant,
  key: { key: KeyMaterial; token: string },
  redis: RedisServer | undefined,
): Promise<ServerResult> {
  const [result] = await measureGroup(settings, [variant], key, redis ? [redis] : []);
  return result as ServerResult;
}

const usesRedis = (variant: Variant): boolean =>
  variant.store === 'redis' || variant.store === 'redis-lease';

/**
 * Starts the servers of a group side by side, loads them in turn (a, b, a, b, ...; see
 * `measureInterleaved`) so a slow minute of the machine lands on all of them alike and
 * the ratios between them hold, then stops them. Each server that uses Redis gets its own
 * redis-server from `redisPool`, so the commands each one caused are counted apart. In
 * full runs the group is measured once more when a server's rounds spread over
 * {@link MAX_SPREAD_PCT}, keeping the steadier measurement. Responses that were not 2xx
 * are reported as warnings and in the table.
 */
export async function measureGroup(
  settings: RunSettings,
  variants: readonly Variant[],
  key: { key: KeyMaterial; token: string },
  redisPool: readonly RedisServer[],
): Promise<ServerResult[]> {
  const worst = (results: readonly ServerResult[]) =>
    Math.max(...results.map((r) => r.measurement.spreadPct));
  const first = await measureGroupOnce(settings, variants, key, redisPool);
  if (settings.quick || worst(first) <= MAX_SPREAD_PCT) return first;
  console.log(`  spread ${worst(first).toFixed(1)}%: measuring again`);
  const second = await measureGroupOnce(settings, variants, key, redisPool);
  return worst(second) < worst(first) ? second : first;
}

/** A server of a group, with the redis-server it uses. */
interface Member {
  readonly variant: Variant;
  readonly setup: ServerSetup;
  readonly redis: RedisServer | undefined;
  sentBefore: number;
  sentAfter: number;
  storeErrors: number;
  executed: Map<string, number> | undefined;
}

async function measureGroupOnce(
  settings: RunSettings,
  variants: readonly Variant[],
  key: { key: KeyMaterial; token: string },
  redisPool: readonly RedisServer[],
): Promise<ServerResult[]> {
  let nextRedis = 0;
  const members = variants.map((variant): Member => {
    const name = label(variant).replaceAll(' ', '-');
    let redis: RedisServer | undefined;
    if (usesRedis(variant)) {
      redis = redisPool[nextRedis++];
      if (redis === undefined) throw new Error(`no redis-server left for ${label(variant)}`);
    }
    return {
      variant,
      setup: {
        key: key.key,
        store: variant.store ?? 'memory',
        ...(redis ? { redisPort: redis.port } : {}),
        logFile: join(settings.scratch, `${name}.log`),
        statsFile: join(settings.scratch, `${name}.stats.json`),
      },
      redis,
      sentBefore: 0,
      sentAfter: 0,
      storeErrors: 0,
      executed: undefined,
    };
  });
  for (const member of members) await member.redis?.flushAll();
  const busyBefore = await waitForQuiet(QUIET_THRESHOLD, settings.quietWaitMs);
  const servers: BenchServer[] = [];
  let measurements: Measurement[];
  try {
    for (const { variant, setup } of members) {
      servers.push(
        await startWithRetry(() =>
          startServer(
            join(settings.serversDir, 'http.mjs'),
            [variant.framework, variant.stack],
            SERVER_CPU,
            { BENCH_SETUP: JSON.stringify(setup) },
          ),
        ),
      );
    }
    const withRedis = members.flatMap((member, at) =>
      member.redis ? [{ member, server: servers[at] as BenchServer }] : [],
    );
    measurements = await measureInterleaved(
      servers,
      { ...settings.load, headers: { authorization: `Bearer ${key.token}` } },
      {
        async beforeRounds() {
          for (const { member, server } of withRedis) {
            await member.redis?.resetStats();
            member.sentBefore = (
              await serverStats(server, member.setup.statsFile)
            ).redisCommandsSent;
          }
        },
        async afterRounds() {
          for (const { member, server } of withRedis) {
            member.executed = await member.redis?.commandCounts();
            const stats = await serverStats(server, member.setup.statsFile);
            member.sentAfter = stats.redisCommandsSent;
            member.storeErrors = stats.storeErrors;
          }
        },
      },
    );
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
  const results: ServerResult[] = [];
  for (const [at, member] of members.entries()) {
    results.push(await report(member, measurements[at] as Measurement, busyBefore));
  }
  return results;
}

/** Checks one server's measurement (failures, access-log lines) and prints its line. */
async function report(
  member: Member,
  measurement: Measurement,
  busyBefore: number,
): Promise<ServerResult> {
  const { variant, setup, executed } = member;
  const title = label(variant);
  const warnings: string[] = [];
  // Reported, not thrown: one failing server must not end a 40-minute run.
  if (measurement.failures > 0) {
    warnings.push(`${title}: ${measurement.failures} responses were not 2xx (or failed)`);
  }
  const timedRequests = measurement.rounds.reduce((sum, r) => sum + r.requests, 0);
  if (busyBefore >= QUIET_THRESHOLD) {
    warnings.push(
      `${title}: the machine was ${(busyBefore * 100).toFixed(0)}% busy before it started`,
    );
  }
  if (member.storeErrors > 0) {
    warnings.push(`${title}: ${member.storeErrors} rate-limit store failures`);
  }
  if (variant.stack !== 'bare') {
    const lines = await countLinesAndRemove(setup.logFile);
    const expected = timedRequests + measurement.warmupRequests;
    // The buffered stream loses at most its last few KiB when the server is killed.
    if (lines < expected * 0.99) {
      warnings.push(`${title}: ${lines} access-log lines for ${expected} requests`);
    }
  }
  let redisUse: RedisUse | undefined;
  if (executed !== undefined && timedRequests > 0) {
    const { total, breakdown } = perUnit(executed, timedRequests);
    redisUse = {
      sentPerRequest: (member.sentAfter - member.sentBefore) / timedRequests,
      executedPerRequest: total,
      breakdown,
    };
  }
  for (const warning of warnings) console.warn(`warning: ${warning}`);
  console.log(
    `${title}: ${measurement.rps.toFixed(0)} req/s (±${measurement.spreadPct.toFixed(1)}%), p99 ${measurement.p99Ms.toFixed(2)} ms, CPU ${measurement.cpuUsPerRequest.toFixed(0)} µs/req, RSS ${measurement.peakRssMb.toFixed(0)} MiB${redisUse ? `, redis ${redisUse.sentPerRequest.toFixed(2)} sent / ${redisUse.executedPerRequest.toFixed(2)} run per request` : ''}`,
  );
  return { variant, measurement, redis: redisUse, busyBefore, warnings };
}
