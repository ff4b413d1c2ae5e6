// A real redis-server for one run, on a free port, pinned to a CPU, and the
// INFO commandstats deltas that count commands per request.
import { type ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort, waitForOutput } from './server.ts';

/** Commands executed by the server, by name (`evalsha`, `hmget`...), script-internal ones included. */
export type CommandCounts = Map<string, number>;

/** Our own admin commands, never counted. */
const ADMIN = /^(info|config\|.*|flushall|ping|hello|client\|.*)$/;

export interface RedisServer {
  readonly port: number;
  /** Zeroes INFO commandstats. */
  resetStats(): Promise<void>;
  /** INFO commandstats, without our admin commands. */
  commandCounts(): Promise<CommandCounts>;
  flushAll(): Promise<void>;
  stop(): Promise<void>;
}

/** INFO commandstats of the server `admin` is connected to, without our admin commands. */
export async function readCommandCounts(admin: Redis): Promise<CommandCounts> {
  const info = await admin.info('commandstats');
  const counts: CommandCounts = new Map();
  for (const [, command, calls] of info.matchAll(/^cmdstat_([a-z|_-]+):calls=(\d+)/gm)) {
    if (!ADMIN.test(command as string)) counts.set(command as string, Number(calls));
  }
  return counts;
}

/** Starts `redis-server` with no persistence on a free port, pinned to `cpu`. */
export async function startRedis(cpu: number): Promise<RedisServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'taskset',
    [
      '-c',
      String(cpu),
      'redis-server',
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await waitForOutput(child, 'Ready to accept connections', 'redis-server', 10_000);
  child.stdout?.resume();
  const admin = new Redis(port, '127.0.0.1');
  await admin.ping();
  return {
    port,
    async resetStats() {
      await admin.config('RESETSTAT');
    },
    commandCounts: () => readCommandCounts(admin),
    async flushAll() {
      await admin.flushall();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        admin.disconnect();
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

/** Total of counts, and a `name n.nn` breakdown per unit (request or hit). */
export function perUnit(
  counts: CommandCounts,
  units: number,
): { total: number; breakdown: string } {
  let total = 0;
  const parts: string[] = [];
  for (const [command, calls] of [...counts].sort((a, b) => b[1] - a[1])) {
    total += calls;
    parts.push(`${command} ${(calls / units).toFixed(2)}`);
  }
  return { total: total / units, breakdown: parts.join(', ') };
}
