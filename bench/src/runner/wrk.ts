import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** One timed round of load. */
export interface LoadResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Responses that were not 2xx/3xx, plus socket errors. */
  failures: number;
  /** Of those, responses that were not 2xx/3xx. */
  non2xx: number;
}

/** Options of one timed round of load ({@link runWrk}, `runAutocannon`). */
export interface LoadOptions {
  url: string;
  seconds: number;
  connections: number;
  /** CPU to pin wrk to (the server gets the other one). */
  cpu: number;
  headers?: Readonly<Record<string, string>>;
}

function toMs(value: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(value.trim());
  if (!match) return Number.NaN;
  const n = Number(match[1]);
  switch (match[2]) {
    case 'us':
      return n / 1000;
    case 'ms':
      return n;
    case 's':
      return n * 1000;
    default:
      return n * 60_000;
  }
}

/** Runs `wrk --latency` pinned to one CPU and parses its report. */
export async function runWrk(options: LoadOptions): Promise<LoadResult> {
  const args = [
    '-c',
    String(options.cpu),
    'wrk',
    '--latency',
    '-t1',
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    // wrk's default 2 s timeout would drop a slow stack's slowest answers from p99.
    '--timeout',
    '30s',
  ];
  for (const [name, value] of Object.entries(options.headers ?? {}))
    args.push('-H', `${name}: ${value}`);
  args.push(options.url);
  const { stdout } = await run('taskset', args, { maxBuffer: 1 << 20 });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  const p50 = /\s50%\s+(\S+)/.exec(stdout)?.[1] ?? '';
  const p99 = /\s99%\s+(\S+)/.exec(stdout)?.[1] ?? '';
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
    stdout,
  );
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    rps,
    p50Ms: toMs(p50),
    p99Ms: toMs(p99),
    requests,
    failures: non2xx + socketErrors,
    non2xx,
  };
}
