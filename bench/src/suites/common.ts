// What the suites share: the load settings of the run, paths, and number formatting.
import { createReadStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { MeasureOptions } from '../runner/measure.ts';
import type { BenchServer } from '../runner/server.ts';
import type { ServerStats } from '../servers/http/setup.ts';

export const FRAMEWORKS = ['express', 'fastify', 'koa', 'hono', 'node'] as const;
export type FrameworkName = (typeof FRAMEWORKS)[number];

/** The server under test runs on this CPU; wrk (and redis-server) on the other. */
export const SERVER_CPU = 1;

export const LOAD_CPU = 0;

export const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/** Settings of one run of the runner. */
export interface RunSettings {
  readonly quick: boolean;
  /** Load settings for wrk, without the path's headers. */
  readonly load: MeasureOptions;
  /** A scratch directory for log and stats files, removed at the end. */
  readonly scratch: string;
  /** Where the servers were compiled to JavaScript (see runner/compile.ts). */
  readonly serversDir: string;
  /** Longest wait for a quiet machine before each server, in ms (0: never wait). */
  readonly quietWaitMs: number;
}

/** Command-line overrides of the load settings: `--rounds=3 --seconds=5 --warmup=2`. */
export interface LoadOverrides {
  readonly rounds?: number;
  readonly seconds?: number;
  readonly warmupSeconds?: number;
}

export function loadSettings(quick: boolean, overrides: LoadOverrides = {}): MeasureOptions {
  return {
    path: '/users/me',
    seconds: overrides.seconds ?? (quick ? 2 : 10),
    warmupSeconds: overrides.warmupSeconds ?? (quick ? 1 : 3),
    rounds: overrides.rounds ?? (quick ? 1 : 3),
    connections: 64,
    loadCpu: LOAD_CPU,
  };
}

export const fixed = (n: number, digits = 0): string => n.toFixed(digits);
export const thousands = (n: number): string => Math.round(n).toLocaleString('en');
export const ratio = (n: number | null): string => (n === null ? '-' : `${n.toFixed(2)}x`);

/** A markdown table from a header row and rows. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Asks a server for its counters (SIGUSR2 -> stats file). */
export async function serverStats(server: BenchServer, file: string): Promise<ServerStats> {
  await rm(file, { force: true });
  process.kill(server.pid, 'SIGUSR2');
  for (let i = 0; i < 100; i++) {
    try {
      return JSON.parse(await readFile(file, 'utf8')) as ServerStats;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  throw new Error(`server ${server.pid} did not report its stats`);
}

/** Lines in a file (access-log lines), then removes it. */
export async function countLinesAndRemove(file: string): Promise<number> {
  let lines = 0;
  try {
    for await (const chunk of createReadStream(file)) {
      for (const byte of chunk as Buffer) if (byte === 10) lines++;
    }
  } catch {
    return 0;
  }
  await rm(file, { force: true });
  return lines;
}
