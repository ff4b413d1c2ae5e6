import type { DatabaseSync } from 'node:sqlite';
import {
  type ApiKeyStore,
  PostgresApiKeyStore,
  PostgresRefreshTokenStore,
  type RefreshTokenStore,
  SqliteApiKeyStore,
} from '@org/auth';
import { type HealthCheck, sqliteCheck } from '@org/observability';
import type { ExampleConfig } from '../config.ts';
import { openDatabase } from '../database/database.ts';
import { PostgresUserRepository } from '../users/postgres-user-repository.ts';
import { UserRepository, type UserStore } from '../users/user-repository.ts';

/** Where the API's durable state lives: SQLite (`DATABASE_PATH`) or PostgreSQL (`DATABASE_URL`). */
export interface Storage {
  readonly users: UserStore;
  /** API keys, beside the users. */
  readonly apiKeys: ApiKeyStore;
  /** Refresh-token families in the database (PostgreSQL); undefined on SQLite. */
  readonly refreshFamilies: RefreshTokenStore | undefined;
  /** The readiness check of the database. */
  readonly check: HealthCheck;
  close(): Promise<void>;
}

interface StorageLogger {
  warn(object: object, message?: string): void;
}

/**
 * PostgreSQL when `DATABASE_URL` is set (users, refresh families and API keys, tables
 * created if missing), else the SQLite file at `DATABASE_PATH` (migrated).
 */
export async function openStorage(config: ExampleConfig, logger: StorageLogger): Promise<Storage> {
  if (config.DATABASE_URL === undefined) return sqliteStorage(openDatabase(config.DATABASE_PATH));
  // Loaded only for PostgreSQL: a SQLite start does not pay for the driver.
  const { Pool } = await import('pg');
  const pool = new Pool({
    connectionString: config.DATABASE_URL,
    // Fail fast while the database is down: a 503, never a request left hanging.
    connectionTimeoutMillis: 2000,
    query_timeout: 5000,
  });
  // An idle connection the server closed (a restart) is reported here; unheard, it ends the process.
  pool.on('error', (error) => logger.warn({ err: error }, 'postgres connection lost'));
  const users = new PostgresUserRepository(pool);
  const apiKeys = new PostgresApiKeyStore({ client: pool });
  const refreshFamilies = new PostgresRefreshTokenStore({ client: pool });
  await users.migrate();
  await apiKeys.createTables();
  await refreshFamilies.createTables();
  return {
    users,
    apiKeys,
    refreshFamilies,
    check: async () => {
      await pool.query('SELECT 1');
    },
    close: () => pool.end(),
  };
}

function sqliteStorage(db: DatabaseSync): Storage {
  return {
    users: new UserRepository(db),
    apiKeys: new SqliteApiKeyStore({ database: db }),
    refreshFamilies: undefined,
    check: sqliteCheck(db),
    close: async () => {
      if (db.isOpen) db.close();
    },
  };
}
