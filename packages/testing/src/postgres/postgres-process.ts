import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { chown, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerUser } from './find-postgres.js';
import { PostgresNotInstalledError, PostgresStartError } from './postgres-errors.js';

/** Everything the runs of `initdb` and `postgres` share. */
export interface Cluster {
  readonly bin: string;
  readonly directory: string;
  readonly dataDirectory: string;
  readonly user: ServerUser | undefined;
  readonly timeoutMs: number;
}

const READY = 'database system is ready to accept connections';

/**
 * Loopback TCP and a private socket only. No fsync: a commit still reaches the OS, so
 * data survives `kill()` (a crash of the server, not of the machine).
 */
function serverArguments(cluster: Cluster, port: number): string[] {
  const settings: Record<string, string> = {
    port: String(port),
    listen_addresses: '127.0.0.1',
    unix_socket_directories: cluster.directory,
    unix_socket_permissions: '0700',
    fsync: 'off',
    full_page_writes: 'off',
    shared_buffers: '32MB',
  };
  const flags = Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
  return ['-D', cluster.dataDirectory, ...flags];
}

function run(cluster: Cluster, program: string, args: string[]): ChildProcess {
  const options: SpawnOptions = {
    cwd: cluster.directory,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
  };
  if (cluster.user !== undefined) {
    options.uid = cluster.user.uid;
    options.gid = cluster.user.gid;
  }
  return spawn(join(cluster.bin, program), args, options);
}

function notFound(error: NodeJS.ErrnoException, cluster: Cluster, program: string): Error {
  return error.code === 'ENOENT'
    ? new PostgresNotInstalledError(`${join(cluster.bin, program)} was not found.`)
    : error;
}

/** Creates the data directory with `initdb`, owned by the server's user. */
export async function createCluster(cluster: Cluster): Promise<void> {
  await mkdir(cluster.directory, { recursive: true });
  if (cluster.user !== undefined)
    await chown(cluster.directory, cluster.user.uid, cluster.user.gid);
  const child = run(cluster, 'initdb', [
    '-D',
    cluster.dataDirectory,
    '-U',
    'postgres',
    '--auth=trust',
    '--encoding=UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const collect = (data: Buffer) => {
      output += data.toString();
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new PostgresStartError(`initdb did not finish within ${cluster.timeoutMs} ms:\n${output}`),
      );
    }, cluster.timeoutMs);
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(notFound(error, cluster, 'initdb'));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new PostgresStartError(`initdb exited with code ${code}:\n${output}`));
    });
  });
}

/** Starts `postgres` and resolves once it accepts connections. */
export function launch(cluster: Cluster, port: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = run(cluster, 'postgres', serverArguments(cluster, port));
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new PostgresStartError(`postgres did not start within ${cluster.timeoutMs} ms:\n${output}`),
      );
    }, cluster.timeoutMs);
    const onData = (data: Buffer) => {
      output += data.toString();
      if (!output.includes(READY)) return;
      clearTimeout(timer);
      // Keep draining the log, or the server blocks once the pipe is full.
      child.stdout?.off('data', onData).resume();
      child.stderr?.off('data', onData).resume();
      resolve(child);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(notFound(error, cluster, 'postgres'));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new PostgresStartError(`postgres exited with code ${code} before it was ready:\n${output}`),
      );
    });
  });
}

/** A signal to the server, and how long it may take to exit before the next one. */
type ShutdownStep = readonly [signal: NodeJS.Signals, waitMs: number];

/**
 * Smart shutdown first: a client that is closing its connection (`pool.end()` does not
 * wait for that) would otherwise get a FATAL error, which node-postgres emits as an
 * `'error'` event nobody listens to any more. Then fast shutdown, which ends sessions.
 */
export const STOP: readonly ShutdownStep[] = [
  ['SIGTERM', 2000],
  ['SIGINT', 10_000],
];
/** Immediate shutdown, as a crash: no checkpoint, every connection cut at once. */
export const CRASH: readonly ShutdownStep[] = [['SIGQUIT', 10_000]];

/** Sends each step's signal while the server runs, SIGKILL last; resolves once it exited. */
export function shutDown(
  child: ChildProcess | undefined,
  steps: readonly ShutdownStep[],
): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve();
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const send = (index: number) => {
      const [signal, waitMs] = steps[index] ?? ['SIGKILL', 0];
      child.kill(signal);
      if (index < steps.length) timer = setTimeout(() => send(index + 1), waitMs);
    };
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    send(0);
  });
}
