import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';

/** A benchmark server process pinned to one CPU. */
export interface BenchServer {
  readonly url: string;
  /** Peak resident set size so far, in MiB (VmHWM). */
  peakRssMb(): Promise<number>;
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

/** Starts `node <script> ...args <port>` pinned to `cpu` and waits for it to print "ready". */
export async function startServer(
  script: string,
  args: readonly string[],
  cpu: number,
  env: Readonly<Record<string, string>> = {},
): Promise<BenchServer> {
  const port = await freePort();
  const child: ChildProcess = spawn('taskset', ['-c', String(cpu), process.execPath, script, ...args, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production', ...env },
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} ${args.join(' ')} did not start`)), 20_000);
    child.stdout?.on('data', (data: Buffer) => {
      if (data.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} ${args.join(' ')} exited with ${code}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    async peakRssMb() {
      // taskset execs node, so the child's pid is the server's.
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return kb / 1024;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}
