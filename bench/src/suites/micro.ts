// The micro-benchmarks of issues 4, 5 and 6, each in its own process pinned to the
// server CPU: token verification, memory and Redis limiters, memory growth with
// distinct keys; and the observability layer over HTTP next to pino-http + prom-client.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { MicroTable } from '../micro/common.ts';
import type { RunKey } from '../runner/keys.ts';
import type { RedisServer } from '../runner/redis.ts';
import type { Alg } from '../servers/http/setup.ts';
import { here, type RunSettings, ratio, SERVER_CPU, table, thousands } from './common.ts';
import { measureServer, type ServerResult, type Variant } from './http-server.ts';

const run = promisify(execFile);

/** Runs one micro-benchmark script pinned to the server CPU; returns its tables. */
async function script(
  name: string,
  args: readonly string[],
  settings: RunSettings,
): Promise<MicroTable[]> {
  const { stdout } = await run(
    'taskset',
    [
      '-c',
      String(SERVER_CPU),
      process.execPath,
      '--expose-gc',
      here(`../micro/${name}.ts`),
      ...args,
      ...(settings.quick ? ['--quick'] : []),
    ],
    { maxBuffer: 16 << 20, env: { ...process.env, NODE_ENV: 'production' } },
  );
  const last = stdout.trim().split('\n').at(-1) ?? '[]';
  return JSON.parse(last) as MicroTable[];
}

/** What each framework's peer observability stack is (fastify logs with its own pino logger). */
const PEER_OBSERVABILITY = {
  express: 'pino-http + prom-client',
  fastify: "fastify's pino logger + prom-client",
} as const;

/** Issue 6: request id + access log to a file + histogram, next to pino-http + prom-client. */
async function observability(settings: RunSettings, key: RunKey): Promise<MicroTable> {
  const frameworks = settings.quick ? (['express'] as const) : (['express', 'fastify'] as const);
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const framework of frameworks) {
    const results: Partial<Record<Variant['stack'], ServerResult>> = {};
    for (const stack of ['bare', 'peer-obs', 'ours-obs'] as const) {
      results[stack] = await measureServer(
        settings,
        { framework, stack, alg: null, store: null },
        key,
        undefined,
      );
    }
    const bare = (results.bare as ServerResult).measurement;
    const peer = (results['peer-obs'] as ServerResult).measurement;
    for (const [stack, result] of Object.entries(results)) {
      const m = (result as ServerResult).measurement;
      rows.push([
        framework,
        stack === 'bare'
          ? 'bare'
          : stack === 'peer-obs'
            ? PEER_OBSERVABILITY[framework]
            : '**@org/observability**',
        thousands(m.rps),
        `±${m.spreadPct.toFixed(1)}%`,
        m.p99Ms.toFixed(2),
        m.peakRssMb.toFixed(0),
        m.cpuUsPerRequest.toFixed(0),
        ratio(m.rps / bare.rps),
        stack === 'ours-obs' ? ratio(m.rps / peer.rps) : '-',
        stack === 'ours-obs' ? ratio(peer.cpuUsPerRequest / m.cpuUsPerRequest) : '-',
        ratio(m.peakRssMb / bare.peakRssMb),
      ]);
    }
  }
  notes.push('Targets: ours / peer req/s >= 1.3x; peak RSS <= 1.5x bare.');
  return {
    title: 'Observability layer over HTTP (request id, one access line to a file, route histogram)',
    header: [
      'framework',
      'stack',
      'req/s',
      'spread',
      'p99 ms',
      'peak RSS MiB',
      'CPU µs/req',
      '/ bare',
      '/ peer',
      'CPU: peer / ours',
      'RSS / bare',
    ],
    rows,
    notes,
  };
}

export async function microSuite(
  settings: RunSettings,
  keys: Readonly<Record<Alg, RunKey>>,
  redis: RedisServer,
): Promise<string> {
  const tables: MicroTable[] = [];
  const step = async (name: string, produce: () => Promise<MicroTable[]>) => {
    const started = performance.now();
    tables.push(...(await produce()));
    console.log(`micro ${name}: ${((performance.now() - started) / 1000).toFixed(0)} s`);
  };
  await step('tokens', () => script('tokens', [], settings));
  await step('limiters', () => script('limiters', [String(redis.port)], settings));
  await step('growth', () => script('growth', [], settings));
  await step('observability', async () => [await observability(settings, keys.HS256)]);
  return tables
    .map((t) => {
      const notes = t.notes?.length ? `\n\n${t.notes.map((n) => `- ${n}`).join('\n')}` : '';
      return `### ${t.title}\n\n${table(t.header, t.rows)}${notes}`;
    })
    .join('\n\n');
}
