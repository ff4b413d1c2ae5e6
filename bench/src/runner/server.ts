import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';

/** USER_HZ: the unit of /proc/<pid>/stat times (100 on every Linux this runs on). */
const CLOCK_TICKS = 100;

/** CPU time a process has used, in seconds. */
export interface CpuTimes {
  user: number;
  system: number;
}

/** A benchmark server process pinned to one CPU. */
export interface BenchServer {
  readonly url: string;
  /** The server's process id (taskset execs node, so it is node's). */
  readonly pid: number;
  /** Peak resident set size so far, in MiB (VmHWM). */
  peakRssMb(): Promise<number>;
  /** CPU time (user + system) the server has used so far, in seconds. */
  cpuSeconds(): Promise<number>;
  /** The same, split into user and system (kernel) time, in seconds. */
  cpuTimes(): Promise<CpuTimes>;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Resolves once `child` prints `marker` on its stdout; rejects when it exits first or
 * `timeoutMs` passes. `name` goes into the error.
 */
export function waitForOutput(
  child: ChildProcess,
  marker: string,
  name: string,
  timeoutMs: number,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start`)), timeoutMs);
    child.stdout?.on('data', (data: Buffer) => {
      if (data.toString().includes(marker)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}`));
    });
  });
}

/** Starts `node <script> ...args <port>` pinned to `cpu` and waits for it to print "ready". */
export async function startServer(
  script: string,
  args: readonly string[],
  cpu: number,
  env: Readonly<Record<string, string>> = {},
): Promise<BenchServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'taskset',
    ['-c', String(cpu), process.execPath, script, ...args, String(port)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, NODE_ENV: 'production', ...env },
    },
  );
  const cpuTimes = async (): Promise<CpuTimes> => {
    // /proc/<pid>/stat fields 14 and 15 (utime, stime), after the parenthesized name.
    const stat = await readFile(`/proc/${child.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]) / CLOCK_TICKS, system: Number(fields[12]) / CLOCK_TICKS };
  };
  await waitForOutput(child, 'ready', `${script} ${args.join(' ')}`, 20_000);
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid as number,
    async peakRssMb() {
      // taskset execs node, so the child's pid is the server's.
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return kb / 1024;
    },
    cpuTimes,
    async cpuSeconds() {
      const { user, system } = await cpuTimes();
      return user + system;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        // SIGTERM first, so servers can flush their logs (and write --cpu-prof profiles).
        const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
