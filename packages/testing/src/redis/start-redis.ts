import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../ports/free-port.js';

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /** The `redis-server` binary. @default 'redis-server' (from PATH) */
  binary?: string;
  /** Milliseconds to wait for "Ready to accept connections". @default 10000 */
  startTimeoutMs?: number;
}

/** A real `redis-server` on a free loopback port, in its own temporary directory. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** The port, kept across {@link RedisServer.restart}. */
  readonly port: number;
  /** Shuts the server down (SIGTERM) and removes its directory. */
  stop(): Promise<void>;
  /** Kills the server at once (SIGKILL), to test a Redis outage. */
  kill(): Promise<void>;
  /** Starts the server again on the same port after `kill()` or `stop()`. */
  restart(): Promise<void>;
}

/** `redis-server` is not installed. The message says how to install it. */
export class RedisNotInstalledError extends Error {
  /** Stable code. */
  static readonly code = 'ERR_REDIS_NOT_INSTALLED';
  /** Stable code. */
  readonly code = RedisNotInstalledError.code;
  constructor(binary: string) {
    super(
      `${binary} was not found on PATH. Install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) and run the tests again.`,
    );
    this.name = 'RedisNotInstalledError';
  }
}

function launch(
  binary: string,
  port: number,
  dir: string,
  timeoutMs: number,
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      binary,
      [
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
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (data: Buffer) => {
      output += data.toString();
      if (output.includes('Ready to accept connections')) {
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
      reject(new Error(`redis-server exited with code ${code} before it was ready:\n${output}`));
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

/**
 * Starts a real `redis-server` on a free port in a temporary directory, for tests
 * of Redis-backed stores and of Redis outages.
 *
 * @example
 * ```ts
 * const redis = await startRedis();
 * const client = new Redis(redis.url);
 * await redis.kill();    // outage
 * await redis.restart(); // recovery
 * await redis.stop();
 * ```
 * @throws {@link RedisNotInstalledError} when `redis-server` is not on PATH.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const binary = options.binary ?? 'redis-server';
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  const dir = await mkdtemp(join(tmpdir(), 'org-redis-'));
  let port = await freePort();
  let child: ChildProcess | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      child = await launch(binary, port, dir, timeoutMs);
      break;
    } catch (error) {
      if (error instanceof RedisNotInstalledError || attempt >= 3) {
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
      port = await freePort();
    }
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      await waitForExit(child, 'SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
    async kill() {
      await waitForExit(child, 'SIGKILL');
    },
    async restart() {
      await waitForExit(child, 'SIGKILL');
      child = await launch(binary, port, dir, timeoutMs);
    },
  };
}
