import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { ConfigurationError } from '@org/core';
import { API_KEY_COLUMNS, type ApiKeyRow, apiKeyFromRow } from './sql-row.js';
import type { ApiKeyStore, StoredApiKey } from './types.js';

/**
 * Options of {@link SqliteApiKeyStore}.
 *
 * @example
 * ```ts
 * new SqliteApiKeyStore({ database: new DatabaseSync('app.db'), table: 'service_keys' });
 * ```
 */
export interface SqliteApiKeyStoreOptions {
  /** A `node:sqlite` `DatabaseSync` you open and close. */
  database: DatabaseSync;
  /** The table's name, created with its owner index if missing. Letters, digits and `_`. @default 'api_keys' */
  table?: string;
}

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** SQLite keeps `scopes` and `roles` as JSON text. */
const fromRow = (row: ApiKeyRow): StoredApiKey =>
  apiKeyFromRow(row, (value) => JSON.parse(String(value)) as string[]);

/**
 * API keys in a SQL table through `node:sqlite`: one row per key, prepared
 * statements only, the table and an index on `owner` created if missing. Instances
 * that share the database file share the keys; there is no cache, so a revocation
 * is seen by the next lookup on every instance.
 *
 * @example
 * ```ts
 * import { DatabaseSync } from 'node:sqlite';
 * const store = new SqliteApiKeyStore({ database: new DatabaseSync(process.env.DATABASE_PATH ?? ':memory:') });
 * const apiKeys = createApiKeys({ store });
 * ```
 */
export class SqliteApiKeyStore implements ApiKeyStore {
  readonly #database: DatabaseSync;
  readonly #insert: StatementSync;
  readonly #get: StatementSync;
  readonly #list: StatementSync;
  readonly #revoke: StatementSync;
  readonly #expire: StatementSync;
  readonly #touch: StatementSync;

  constructor(options: SqliteApiKeyStoreOptions) {
    const database = options?.database;
    if (typeof database?.prepare !== 'function') {
      throw new ConfigurationError(
        "SqliteApiKeyStore needs options.database: a DatabaseSync from 'node:sqlite'.",
      );
    }
    const table = options.table ?? 'api_keys';
    if (!TABLE_NAME.test(table)) {
      throw new ConfigurationError(
        `SqliteApiKeyStore: table must be letters, digits and '_', not starting with a digit; received ${JSON.stringify(table)}.`,
      );
    }
    database.exec(`CREATE TABLE IF NOT EXISTS ${table} (
      id TEXT PRIMARY KEY NOT NULL,
      hash TEXT NOT NULL,
      name TEXT NOT NULL,
      owner TEXT NOT NULL,
      scopes TEXT NOT NULL,
      roles TEXT,
      created_at INTEGER NOT NULL,
      expires_at INTEGER,
      last_used_at INTEGER,
      revoked_at INTEGER
    );
    CREATE INDEX IF NOT EXISTS ${table}_owner ON ${table} (owner, created_at);`);
    this.#database = database;
    this.#insert = database.prepare(
      `INSERT INTO ${table} (${API_KEY_COLUMNS})
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#get = database.prepare(`SELECT * FROM ${table} WHERE id = ?`);
    this.#list = database.prepare(
      `SELECT * FROM ${table} WHERE owner = ? ORDER BY created_at, rowid`,
    );
    this.#revoke = database.prepare(
      `UPDATE ${table} SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`,
    );
    this.#expire = database.prepare(
      `UPDATE ${table} SET expires_at = MIN(COALESCE(expires_at, ?1), ?1) WHERE id = ?2`,
    );
    this.#touch = database.prepare(
      `UPDATE ${table} SET last_used_at = MAX(COALESCE(last_used_at, ?1), ?1) WHERE id = ?2`,
    );
  }

  async insert(key: StoredApiKey): Promise<void> {
    this.#insert.run(
      key.id,
      key.hash,
      key.name,
      key.owner,
      JSON.stringify(key.scopes),
      key.roles === undefined ? null : JSON.stringify(key.roles),
      key.createdAt,
      key.expiresAt ?? null,
      key.lastUsedAt ?? null,
      key.revokedAt ?? null,
    );
  }

  async get(id: string): Promise<StoredApiKey | undefined> {
    const row = this.#get.get(id) as ApiKeyRow | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  async listByOwner(owner: string): Promise<StoredApiKey[]> {
    return (this.#list.all(owner) as ApiKeyRow[]).map(fromRow);
  }

  async revoke(id: string, at: number): Promise<boolean> {
    return Number(this.#revoke.run(at, id).changes) > 0;
  }

  async expire(id: string, at: number): Promise<boolean> {
    return Number(this.#expire.run(at, id).changes) > 0;
  }

  async touch(lastUsed: ReadonlyMap<string, number>): Promise<void> {
    if (lastUsed.size === 0) return;
    // One transaction for the batch: one fsync instead of one per key.
    this.#database.exec('BEGIN');
    try {
      for (const [id, at] of lastUsed) this.#touch.run(at, id);
      this.#database.exec('COMMIT');
    } catch (error) {
      this.#database.exec('ROLLBACK');
      throw error;
    }
  }
}
