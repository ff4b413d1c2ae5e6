import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  baseArguments,
  RedisProcess,
  SERVER_READY,
  startOnFreePorts,
} from '../internal/redis-process.js';

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
 * @throws {@link RedisNotInstalledError} when `redis-server` is not on PATH, and
 *   {@link RedisHarnessError} (`start-failed`) when it does not start.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const binary = options.binary ?? 'redis-server';
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  const dir = await mkdtemp(join(tmpdir(), 'org-redis-'));
  const { process: server, ports } = await startOnFreePorts(
    1,
    ([free]) =>
      new RedisProcess({
        binary,
        args: baseArguments(free as number, dir),
        ready: SERVER_READY,
        timeoutMs,
      }),
  ).catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  const port = ports[0] as number;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
    kill: () => server.kill(),
    async restart() {
      await server.kill();
      await server.start();
    },
  };
}
