// What the micro-benchmark scripts share: tinybench in batches, and the JSON tables
// they print for the runner (the last line of stdout).
import { Bench } from 'tinybench';

/** A table a micro-benchmark reports; the runner renders it as markdown. */
export interface MicroTable {
  readonly title: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  readonly notes?: readonly string[];
}

/** Operations per second of one task, with tinybench's relative margin of error. */
export interface Throughput {
  readonly opsPerSecond: number;
  readonly rmePct: number;
}

export const quick = process.argv.includes('--quick');

/**
 * Runs each task for `timeMs`; a task performs `batch` operations per call, so the
 * timer's own cost (tens of ns) does not swamp operations that take about as long.
 */
export async function throughput(
  tasks: readonly (readonly [string, () => unknown])[],
  options: { timeMs: number; batch: number },
): Promise<Map<string, Throughput>> {
  const bench = new Bench({
    time: options.timeMs,
    warmupTime: Math.min(500, options.timeMs),
    throws: true,
  });
  for (const [name, fn] of tasks) bench.add(name, fn);
  await bench.run();
  const results = new Map<string, Throughput>();
  for (const task of bench.tasks) {
    const result = task.result;
    if (result.state !== 'completed') throw new Error(`${task.name}: ${result.state}`);
    results.set(task.name, {
      opsPerSecond: (options.batch * 1000) / result.latency.mean,
      rmePct: result.latency.rme,
    });
  }
  return results;
}

export const thousands = (n: number): string => Math.round(n).toLocaleString('en');

export function emit(tables: readonly MicroTable[]): void {
  process.stdout.write(`\n${JSON.stringify(tables)}\n`);
}
