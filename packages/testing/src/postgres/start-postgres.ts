import type { ChildProcess } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../ports/free-port.js';
import { findBinDirectory, findServerUser } from './find-postgres.js';
import { PostgresStartError } from './postgres-errors.js';
import { type Cluster, CRASH, createCluster, launch, STOP, shutDown } from './postgres-process.js';

/**
 * Options of {@link startPostgres}.
 *
 * @example
 * ```ts
 * const postgres = await startPostgres({ binDirectory: '/usr/lib/postgresql/17/bin', startTimeoutMs: 60_000 });
 * ```
 */
export interface StartPostgresOptions {
  /**
   * The directory holding `initdb` and `postgres`.
   * @default the first directory on PATH that has both, else the newest `/usr/lib/postgresql/<version>/bin` (Debian, Ubuntu)
   */
  binDirectory?: string;
  /** Milliseconds each of `initdb` and the server's start may take. @default 30000 */
  startTimeoutMs?: number;
}

/**
 * A real PostgreSQL server on a free loopback port, its data directory and socket in
 * its own temporary directory. Anyone on 127.0.0.1 may connect as `postgres` without
 * a password (trust authentication): it is for tests only.
 *
 * @example
 * ```ts
 * let postgres: PostgresServer;
 * beforeAll(async () => { postgres = await startPostgres(); });
 * afterAll(() => postgres.stop());
 * ```
 */
export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`, for `new Pool({ connectionString: url })`. */
  readonly url: string;
  /** The port, kept across {@link PostgresServer.restart}. */
  readonly port: number;
  /** The temporary directory: the data directory (`data/`) and the Unix socket. Removed by {@link PostgresServer.stop}. */
  readonly directory: string;
  /**
   * Shuts the server down and removes its directory. It lets open sessions end for up to
   * two seconds (smart shutdown), then ends them (fast shutdown): end your pools first.
   */
  stop(): Promise<void>;
  /**
   * Stops the server at once, as a crash would (immediate shutdown, SIGQUIT): every
   * connection is cut, nothing is checkpointed. To test a database outage.
   */
  kill(): Promise<void>;
  /**
   * Starts the server again on the same port. After `kill()` the data is kept (the
   * server runs its crash recovery); after `stop()` it starts on an empty cluster.
   */
  restart(): Promise<void>;
}

/** The first start: another process may take the free port first, so retry on another. */
async function launchOnFreePort(cluster: Cluster): Promise<{ child: ChildProcess; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    try {
      return { child: await launch(cluster, port), port };
    } catch (error) {
      const taken = error instanceof PostgresStartError && error.message.includes('already in use');
      if (!taken || attempt >= 3) throw error;
    }
  }
}

/**
 * Starts a real PostgreSQL server for tests of PostgreSQL-backed stores and of
 * database outages: `initdb` into a new temporary directory (trust authentication,
 * no fsync), then `postgres` on a free port, listening on 127.0.0.1 only, its Unix
 * socket in that directory. Run as root (a container), it runs the server as the
 * `postgres` system user the Debian package creates, since PostgreSQL refuses root.
 *
 * @example
 * ```ts
 * import { Pool } from 'pg';
 *
 * const postgres = await startPostgres();
 * const pool = new Pool({ connectionString: postgres.url, connectionTimeoutMillis: 2000 });
 * pool.on('error', () => {}); // idle connections cut by kill() report here
 * await postgres.kill();      // outage
 * await postgres.restart();   // recovery, data kept
 * await pool.end();
 * await postgres.stop();
 * ```
 * @throws {@link PostgresNotInstalledError} when `initdb` and `postgres` cannot be found.
 * @throws {@link PostgresStartError} when `initdb` fails or the server does not start.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bin = findBinDirectory(options.binDirectory);
  const user = findServerUser();
  const directory = await mkdtemp(join(tmpdir(), 'org-postgres-'));
  const cluster: Cluster = {
    bin,
    directory,
    dataDirectory: join(directory, 'data'),
    user,
    timeoutMs: options.startTimeoutMs ?? 30_000,
  };
  let started: { child: ChildProcess; port: number };
  try {
    await createCluster(cluster);
    started = await launchOnFreePort(cluster);
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  const { port } = started;
  let child: ChildProcess | undefined = started.child;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    directory,
    async stop() {
      await shutDown(child, STOP);
      await rm(directory, { recursive: true, force: true });
    },
    async kill() {
      await shutDown(child, CRASH);
    },
    async restart() {
      await shutDown(child, CRASH);
      const hasData = await access(cluster.dataDirectory).then(
        () => true,
        () => false,
      );
      if (!hasData) await createCluster(cluster);
      child = await launch(cluster, port);
    },
  };
}
