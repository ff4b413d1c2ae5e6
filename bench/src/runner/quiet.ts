// Waiting for a quiet machine: the benchmarks share two cores with whatever else runs,
// so before each server the runner waits (a bounded time) until the CPUs are idle.
import { readFile } from 'node:fs/promises';

async function cpuTimes(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  const total = fields.reduce((sum, n) => sum + n, 0);
  return { busy: total - idle, total };
}

/** Share of both CPUs busy over `ms` milliseconds, 0 to 1. */
export async function machineBusy(ms = 1000): Promise<number> {
  const before = await cpuTimes();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = await cpuTimes();
  const total = after.total - before.total;
  return total > 0 ? (after.busy - before.busy) / total : 0;
}

/**
 * Waits until less than `threshold` of the machine is busy, for at most `maxMs`.
 * Returns the last busy share seen (so a report can say the machine was not quiet).
 */
export async function waitForQuiet(threshold: number, maxMs: number): Promise<number> {
  const deadline = Date.now() + maxMs;
  let busy = await machineBusy(maxMs > 0 ? 1000 : 100);
  let told = false;
  while (busy >= threshold && Date.now() < deadline) {
    if (!told) {
      console.log(`  waiting for a quiet machine (${(busy * 100).toFixed(0)}% busy)...`);
      told = true;
    }
    busy = await machineBusy();
  }
  return busy;
}
