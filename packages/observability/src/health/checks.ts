import { ConfigurationError } from '@org/core';
import type { HealthCheck } from './health-checks.js';

/** A dependency check failed; the message (for the log only) says why. */
export class DependencyCheckError extends Error {
  /** Stable code. */
  static readonly code = 'ERR_DEPENDENCY_CHECK';
  /** Stable code. */
  readonly code = DependencyCheckError.code;
  constructor(message: string) {
    super(message);
    this.name = 'DependencyCheckError';
  }
}

/** What {@link redisCheck} needs from an ioredis client (`Redis` or `Cluster`). */
export interface PingableRedis {
  /** Sends `PING`; the check passes when it resolves `'PONG'`. */
  ping(): Promise<string>;
  /** ioredis connection status (`ready`, `reconnecting`, `end`, ...). */
  readonly status?: string;
}

// A client in these states would queue the PING until it reconnects: fail at once.
const DOWN: ReadonlySet<string> = new Set(['end', 'close', 'reconnecting']);

/**
 * A readiness check that sends `PING` to Redis through an ioredis client.
 *
 * @example
 * ```ts
 * createHealthChecks({ checks: { redis: redisCheck(new Redis(process.env.REDIS_URL)) } });
 * ```
 */
export function redisCheck(client: PingableRedis): HealthCheck {
  if (typeof client?.ping !== 'function') {
    throw new ConfigurationError(
      'redisCheck: client must be an ioredis client (an object with ping()).',
    );
  }
  return async () => {
    if (client.status !== undefined && DOWN.has(client.status)) {
      throw new DependencyCheckError(`Redis connection is ${client.status}.`);
    }
    const reply = await client.ping();
    if (reply !== 'PONG') throw new DependencyCheckError('Redis did not answer PONG.');
  };
}

/** What {@link sqliteCheck} needs from a `node:sqlite` `DatabaseSync`. */
export interface QueryableSqlite {
  /** Compiles `sql` into a statement; the check prepares `SELECT 1 AS ok` once and reuses it. */
  prepare(sql: string): {
    /** Runs the statement and returns its first row (the check expects `{ ok: 1 }`). */
    get(): unknown;
  };
}

/**
 * A readiness check that runs `SELECT 1` on a `node:sqlite` database. The statement
 * is prepared once and prepared again after a failure (a reopened database).
 *
 * @example
 * ```ts
 * import { DatabaseSync } from 'node:sqlite';
 * createHealthChecks({ checks: { db: sqliteCheck(new DatabaseSync('app.db')) } });
 * ```
 */
export function sqliteCheck(database: QueryableSqlite): HealthCheck {
  if (typeof database?.prepare !== 'function') {
    throw new ConfigurationError('sqliteCheck: database must be a node:sqlite DatabaseSync.');
  }
  let statement: { get(): unknown } | undefined;
  return () => {
    try {
      statement ??= database.prepare('SELECT 1 AS ok');
      const row = statement.get() as { ok?: unknown } | undefined;
      if (row?.ok !== 1) throw new DependencyCheckError('SELECT 1 returned no row.');
    } catch (error) {
      statement = undefined;
      throw error;
    }
  };
}
