import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import type { LoadOptions, LoadResult } from './wrk.ts';

const run = promisify(execFile);
const cli = createRequire(import.meta.url).resolve('autocannon/autocannon.js');

/** What `autocannon --json` reports, the fields read here. */
interface AutocannonReport {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

/**
 * Runs autocannon (one process, Node's own event loop) pinned to one CPU: the second
 * load generator, for checking that a ratio is the servers' and not wrk's. Same
 * options and result as {@link runWrk}.
 */
export async function runAutocannon(options: LoadOptions): Promise<LoadResult> {
  const args = [
    '-c',
    String(options.cpu),
    process.execPath,
    cli,
    '--json',
    '-c',
    String(options.connections),
    '-d',
    String(options.seconds),
    '-t',
    '30',
  ];
  for (const [name, value] of Object.entries(options.headers ?? {}))
    args.push('-H', `${name}=${value}`);
  args.push(options.url);
  const { stdout } = await run('taskset', args, { maxBuffer: 1 << 20 });
  const report = JSON.parse(stdout) as AutocannonReport;
  return {
    rps: report.requests.average,
    p50Ms: report.latency.p50,
    p99Ms: report.latency.p99,
    requests: report.requests.total,
    failures: report.non2xx + report.errors + report.timeouts,
    non2xx: report.non2xx,
  };
}
