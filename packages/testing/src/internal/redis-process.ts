import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '../ports/free-port.js';
import { RedisHarnessError, RedisNotInstalledError } from '../redis/redis-errors.js';

/** What a `redis-server` logs once it serves clients; a sentinel logs its id instead. */
export const SERVER_READY = 'Ready to accept connections';
/** What `redis-server --sentinel` logs once it runs. */
export const SENTINEL_READY = 'Sentinel ID is';

/** Settings every test server shares: loopback only, no persistence. */
export function baseArguments(port: number, dir: string): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--protected-mode',
    'yes',
    // A replica's first sync starts at once, not after the default 5 s wait for others.
    '--repl-diskless-sync-delay',
    '0',
  ];
}

/** How to start one `redis-server` process. */
export interface RedisProcessSpec {
  readonly binary: string;
  /** Arguments after the binary (a config file first, when there is one). */
  readonly args: readonly string[];
  /** The log line that says it is ready. */
  readonly ready: string;
  readonly timeoutMs: number;
}

/** One `redis-server` child process that can be killed and started again with the same arguments. */
export class RedisProcess {
  readonly spec: RedisProcessSpec;
  #child: ChildProcess | undefined;

  constructor(spec: RedisProcessSpec) {
    this.spec = spec;
  }

  /** Whether the process runs. */
  get running(): boolean {
    const child = this.#child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Starts it and resolves once it logged its ready line. */
  async start(): Promise<void> {
    this.#child = await launch(this.spec);
  }

  /** SIGKILL, and resolves once it exited. */
  kill(): Promise<void> {
    return waitForExit(this.#child, 'SIGKILL');
  }

  /** SIGTERM, and resolves once it exited. */
  stop(): Promise<void> {
    return waitForExit(this.#child, 'SIGTERM');
  }
}

/**
 * Starts a process on `count` free ports, picking new ports when the start fails
 * (another process may take a free port first).
 */
export async function startOnFreePorts(
  count: number,
  create: (ports: readonly number[]) => RedisProcess | Promise<RedisProcess>,
): Promise<{ process: RedisProcess; ports: readonly number[] }> {
  for (let attempt = 0; ; attempt++) {
    const ports = await distinctFreePorts(count);
    const process = await create(ports);
    try {
      await process.start();
      return { process, ports };
    } catch (error) {
      if (error instanceof RedisNotInstalledError || attempt >= 3) throw error;
    }
  }
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

function launch({ binary, args, ready, timeoutMs }: RedisProcessSpec): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new RedisHarnessError(
          'start-failed',
          `${binary} did not start within ${timeoutMs} ms:\n${output}`,
        ),
      );
    }, timeoutMs);
    const onData = (data: Buffer) => {
      output += data.toString();
      if (output.includes(ready)) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (data: Buffer) => {
      output += data.toString();
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(error.code === 'ENOENT' ? new RedisNotInstalledError(binary) : error);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new RedisHarnessError(
          'start-failed',
          `${binary} exited with code ${code} before it was ready:\n${output}`,
        ),
      );
    });
  });
}

function waitForExit(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
