// Issue 9: for each framework, bare vs the popular stack ("peer") vs the toolkit
// ("ours") on GET /users/me with a valid bearer token; HS256 and ES256; memory and
// Redis stores.

import type { RunKey } from '../runner/keys.ts';
import { pairedRatio } from '../runner/measure.ts';
import type { RedisServer } from '../runner/redis.ts';
import type { Alg, StoreKind } from '../servers/http/setup.ts';
import { FRAMEWORKS, type FrameworkName, fixed, type RunSettings, ratio, table } from './common.ts';
import { measureGroup, type ServerResult, type Variant } from './http-server.ts';

/** The framework whose Redis variant a quick run still measures. */
const QUICK_REDIS_FRAMEWORK: FrameworkName = 'fastify';
const ALGS: readonly Alg[] = ['HS256', 'ES256'];

/** One row of bench/results/latest.json. */
export interface HttpRecord {
  framework: string;
  stack: string;
  alg: Alg | null;
  store: StoreKind | null;
  rps: number;
  spread_pct: number;
  p50_ms: number;
  p99_ms: number;
  peak_rss_mb: number;
  /** Server CPU time per request (user + system). */
  cpu_us_per_req: number;
  ratio_to_bare: number;
  /** bare's CPU per request / this one's: the req/s ratio when the server alone limits throughput. */
  cpu_ratio_to_bare: number;
  rss_ratio_to_bare: number;
  /** req/s over the peer stack's, round by round (`pairedRatio`): they run side by side. */
  ratio_to_peer: number | null;
  /** A leasing row's req/s over ours with the memory store, round by round. */
  ratio_to_memory: number | null;
  redis_cmds_per_req: number | null;
  redis_cmds_sent_per_req: number | null;
  redis_commands: string | null;
  /** Responses that were not 2xx, and socket errors (0 in a valid run). */
  failures: number;
}

/**
 * The servers of a run, in groups that run side by side and take their rounds in turn
 * (`measureGroup`): the ratios within a group (ours / peer, leasing / memory) are
 * measured in the same minutes. Bare runs alone; each group shares one token (one alg).
 */
export function httpPlan(quick: boolean): Variant[][] {
  const plan: Variant[][] = [];
  for (const framework of FRAMEWORKS) {
    plan.push([{ framework, stack: 'bare', alg: null, store: null }]);
    // Bare node:http plus one Redis GET per request: the floor under every Redis row.
    if (!quick && framework === 'node')
      plan.push([{ framework, stack: 'bare', alg: null, store: 'redis' }]);
    const stores: StoreKind[] = quick ? ['memory'] : ['memory', 'redis'];
    for (const store of stores) {
      for (const alg of ALGS) {
        const group: Variant[] = [];
        if (framework !== 'node') group.push({ framework, stack: 'peer', alg, store });
        group.push({ framework, stack: 'ours', alg, store });
        // Quota leasing (issue 30): the Redis store without a round trip per request,
        // beside the memory store it is compared with.
        if (!quick && store === 'memory' && alg === 'HS256') {
          group.push({ framework, stack: 'ours', alg, store: 'redis-lease' });
        }
        plan.push(group);
      }
    }
    if (quick && framework === QUICK_REDIS_FRAMEWORK) {
      plan.push([{ framework, stack: 'ours', alg: 'HS256', store: 'redis' }]);
    }
  }
  return plan;
}

/**
 * The groups of `plan` that `selectors` names (`fastify:HS256:memory,hono:HS256`: a
 * framework, then optionally an alg and a store), each framework's bare rows with them.
 * Throws on a selector that names nothing, so a typo does not run an empty bench.
 */
export function selectGroups(
  plan: readonly (readonly Variant[])[],
  selectors: string,
): Variant[][] {
  const wanted = selectors.split(',').map((text) => {
    const [framework = '', alg, store] = text.split(':');
    const matches = (v: Variant) =>
      v.framework === framework &&
      (v.stack === 'bare' ||
        ((alg === undefined || v.alg === alg) && (store === undefined || v.store === store)));
    if (!plan.some((group) => group.some((v) => v.stack !== 'bare' && matches(v)))) {
      throw new Error(
        `--only=${text} names no group; use <framework>[:<alg>[:<store>]], e.g. fastify:HS256:memory`,
      );
    }
    return matches;
  });
  return plan
    .filter((group) => group.some((v) => wanted.some((matches) => matches(v))))
    .map((group) => [...group]);
}

/**
 * Quota leasing against the memory store (issue 30), alone: per framework bare, then
 * ours HS256 with the memory store, with the Redis store leasing, and with the exact
 * Redis store side by side (`pnpm bench lease`).
 */
export function leasePlan(): Variant[][] {
  return FRAMEWORKS.flatMap((framework): Variant[][] => [
    [{ framework, stack: 'bare', alg: null, store: null }],
    [
      { framework, stack: 'ours', alg: 'HS256', store: 'memory' },
      { framework, stack: 'ours', alg: 'HS256', store: 'redis-lease' },
      { framework, stack: 'ours', alg: 'HS256', store: 'redis' },
    ],
  ]);
}

/** `redisPool`: redis-servers for the servers of a group that use Redis, one each. */
export async function httpSuite(
  settings: RunSettings,
  keys: Readonly<Record<Alg, RunKey>>,
  redisPool: readonly RedisServer[],
  plan: readonly (readonly Variant[])[] = httpPlan(settings.quick),
): Promise<{ markdown: string; records: HttpRecord[]; warnings: string[] }> {
  const results: ServerResult[] = [];
  for (const group of plan) {
    const key = keys[group[0]?.alg ?? 'HS256'];
    results.push(...(await measureGroup(settings, group, key, redisPool)));
  }
  const records = toRecords(results);
  return {
    markdown: render(records),
    records,
    warnings: results.flatMap((r) => r.warnings),
  };
}

function toRecords(results: readonly ServerResult[]): HttpRecord[] {
  const find = (framework: string, stack: string, alg: Alg | null, store: StoreKind | null) =>
    results.find(
      (r) =>
        r.variant.framework === framework &&
        r.variant.stack === stack &&
        r.variant.alg === alg &&
        r.variant.store === store,
    );
  return results.map(({ variant, measurement: m, redis }) => {
    const bare = find(variant.framework, 'bare', null, null)?.measurement;
    const peer =
      variant.stack === 'ours'
        ? find(variant.framework, 'peer', variant.alg, variant.store)?.measurement
        : undefined;
    const memory =
      variant.store === 'redis-lease'
        ? find(variant.framework, 'ours', variant.alg, 'memory')?.measurement
        : undefined;
    return {
      framework: variant.framework,
      stack: variant.stack,
      alg: variant.alg,
      store: variant.store,
      rps: Math.round(m.rps),
      spread_pct: round(m.spreadPct, 1),
      p50_ms: round(m.p50Ms, 2),
      p99_ms: round(m.p99Ms, 2),
      peak_rss_mb: round(m.peakRssMb, 1),
      cpu_us_per_req: round(m.cpuUsPerRequest, 1),
      ratio_to_bare: bare ? round(m.rps / bare.rps, 3) : 1,
      cpu_ratio_to_bare: bare ? round(bare.cpuUsPerRequest / m.cpuUsPerRequest, 3) : 1,
      rss_ratio_to_bare: bare ? round(m.peakRssMb / bare.peakRssMb, 2) : 1,
      ratio_to_peer: peer ? round(pairedRatio(m, peer), 2) : null,
      ratio_to_memory: memory ? round(pairedRatio(m, memory), 2) : null,
      redis_cmds_per_req: redis ? round(redis.executedPerRequest, 2) : null,
      redis_cmds_sent_per_req: redis ? round(redis.sentPerRequest, 2) : null,
      redis_commands: redis?.breakdown ?? null,
      failures: m.failures,
    };
  });
}

const round = (n: number, digits: number): number => Number(n.toFixed(digits));

function render(records: readonly HttpRecord[]): string {
  const rows = records.map((r) => [
    r.failures > 0 ? `${r.framework} (${r.failures} failed!)` : r.framework,
    r.stack === 'ours' ? '**ours**' : r.stack,
    r.alg ?? '-',
    r.store ?? '-',
    r.rps.toLocaleString('en'),
    `±${fixed(r.spread_pct, 1)}%`,
    fixed(r.p50_ms, 2),
    fixed(r.p99_ms, 2),
    fixed(r.peak_rss_mb),
    fixed(r.cpu_us_per_req),
    ratio(r.ratio_to_bare),
    ratio(r.cpu_ratio_to_bare),
    ratio(r.ratio_to_peer),
    ratio(r.rss_ratio_to_bare),
    r.redis_cmds_per_req === null
      ? '-'
      : `${fixed(r.redis_cmds_sent_per_req ?? 0, 2)} sent, ${fixed(r.redis_cmds_per_req, 2)} run`,
  ]);
  const main = table(
    [
      'framework',
      'stack',
      'alg',
      'store',
      'req/s (median)',
      'spread',
      'p50 ms',
      'p99 ms',
      'peak RSS MiB',
      'CPU µs/req',
      '/ bare',
      'CPU / bare',
      '/ peer',
      'RSS / bare',
      'Redis cmds/req',
    ],
    rows,
  );
  const leased = records
    .filter((r) => r.store === 'redis-lease')
    .map(
      (r) =>
        `- ${r.framework}: ${ratio(r.ratio_to_memory)} of the memory store (${r.redis_cmds_sent_per_req ?? 0} Redis commands sent per request)`,
    );
  const leasing =
    leased.length === 0
      ? ''
      : `\n\nQuota leasing, ours HS256 with the Redis store leasing slices / ours HS256 with the memory store (target >= 0.9):\n\n${leased.join('\n')}`;
  const redisNotes = records
    .filter((r) => r.redis_commands !== null)
    .map((r) => `- ${r.framework} ${r.stack} ${r.alg}: ${r.redis_commands}`);
  return redisNotes.length === 0
    ? `${main}${leasing}`
    : `${main}${leasing}\n\nRedis commands executed per request (INFO commandstats, script-internal calls included):\n\n${redisNotes.join('\n')}`;
}
