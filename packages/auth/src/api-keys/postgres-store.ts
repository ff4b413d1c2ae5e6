import {
  checkClient,
  lockedDdl,
  type PostgresClient,
  type TableName,
  tableName,
} from '../internal/postgres.js';
import { API_KEY_COLUMNS, type ApiKeyRow, apiKeyFromRow } from './sql-row.js';
import type { ApiKeyStore, StoredApiKey } from './types.js';

/**
 * Options of {@link PostgresApiKeyStore}.
 *
 * @example
 * ```ts
 * new PostgresApiKeyStore({ client: pool, table: 'service_keys' });
 * ```
 */
export interface PostgresApiKeyStoreOptions {
  /**
   * A node-postgres `Pool` you create and close (or anything with its
   * `query(text, values)`). Make it fail fast when the database is down, or a request
   * waits instead of answering 503: `new Pool({ connectionString, connectionTimeoutMillis: 2000, query_timeout: 5000 })`,
   * and listen to its `'error'` event (an idle connection lost otherwise crashes the process).
   */
  client: PostgresClient;
  /** The table of keys, as `name` or `schema.name`: letters, digits and `_`. @default 'api_keys' */
  table?: string;
}

/** node-postgres returns `text[]` columns as arrays. */
const fromRow = (row: ApiKeyRow): StoredApiKey => apiKeyFromRow(row, (value) => value as string[]);

/**
 * API keys in a PostgreSQL table, shared by every instance of the service: one row
 * per key (its hash, never the secret), each change one statement. There is no cache,
 * so a revocation is seen by the next lookup on every instance. Rows stay, revoked or
 * expired, for their owner's list.
 *
 * Call {@link PostgresApiKeyStore.createTables} once at start-up. Every method rejects
 * when the database cannot be reached; the manager answers 503 (fail closed).
 *
 * @example
 * ```ts
 * import { Pool } from 'pg';
 *
 * const pool = new Pool({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 2000 });
 * pool.on('error', (error) => logger.warn({ err: error }, 'postgres'));
 * const store = new PostgresApiKeyStore({ client: pool });
 * await store.createTables();
 * const apiKeys = createApiKeys({ store });
 * ```
 */
export class PostgresApiKeyStore implements ApiKeyStore {
  readonly #client: PostgresClient;
  readonly #table: TableName;

  constructor(options: PostgresApiKeyStoreOptions) {
    this.#client = checkClient('PostgresApiKeyStore', options?.client);
    this.#table = tableName('PostgresApiKeyStore', options.table ?? 'api_keys');
  }

  /**
   * Creates the table and its owner index if missing: safe to call from every instance
   * at every start (`IF NOT EXISTS`, serialized by an advisory lock).
   *
   * @example
   * ```ts
   * await store.createTables();
   * ```
   */
  async createTables(): Promise<void> {
    const { quoted, name } = this.#table;
    // `seq` keeps creation order among keys created in the same millisecond.
    await this.#client.query(
      lockedDdl(
        quoted,
        `CREATE TABLE IF NOT EXISTS ${quoted} (
          id text PRIMARY KEY,
          seq bigint GENERATED ALWAYS AS IDENTITY,
          hash text NOT NULL,
          name text NOT NULL,
          owner text NOT NULL,
          scopes text[] NOT NULL,
          roles text[],
          created_at bigint NOT NULL,
          expires_at bigint,
          last_used_at bigint,
          revoked_at bigint
        );
        CREATE INDEX IF NOT EXISTS "${name}_owner" ON ${quoted} (owner, created_at, seq);`,
      ),
    );
  }

  async insert(key: StoredApiKey): Promise<void> {
    await this.#client.query(
      `INSERT INTO ${this.#table.quoted} (${API_KEY_COLUMNS})
       VALUES ($1, $2, $3, $4, $5::text[], $6::text[], $7, $8, $9, $10)`,
      [
        key.id,
        key.hash,
        key.name,
        key.owner,
        key.scopes,
        key.roles ?? null,
        key.createdAt,
        key.expiresAt ?? null,
        key.lastUsedAt ?? null,
        key.revokedAt ?? null,
      ],
    );
  }

  async get(id: string): Promise<StoredApiKey | undefined> {
    const { rows } = await this.#client.query(
      `SELECT ${API_KEY_COLUMNS} FROM ${this.#table.quoted} WHERE id = $1`,
      [id],
    );
    const row = rows[0];
    return row === undefined ? undefined : fromRow(row);
  }

  async listByOwner(owner: string): Promise<StoredApiKey[]> {
    const { rows } = await this.#client.query(
      `SELECT ${API_KEY_COLUMNS} FROM ${this.#table.quoted} WHERE owner = $1 ORDER BY created_at, seq`,
      [owner],
    );
    return rows.map(fromRow);
  }

  async revoke(id: string, at: number): Promise<boolean> {
    const { rowCount } = await this.#client.query(
      `UPDATE ${this.#table.quoted} SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1`,
      [id, at],
    );
    return (rowCount ?? 0) > 0;
  }

  async expire(id: string, at: number): Promise<boolean> {
    // LEAST ignores NULL: a key without an expiry gets `at`.
    const { rowCount } = await this.#client.query(
      `UPDATE ${this.#table.quoted} SET expires_at = LEAST(expires_at, $2::bigint) WHERE id = $1`,
      [id, at],
    );
    return (rowCount ?? 0) > 0;
  }

  async touch(lastUsed: ReadonlyMap<string, number>): Promise<void> {
    if (lastUsed.size === 0) return;
    // One statement for the batch; GREATEST ignores NULL and keeps a later time.
    await this.#client.query(
      `UPDATE ${this.#table.quoted} AS k SET last_used_at = GREATEST(k.last_used_at, t.at)
       FROM unnest($1::text[], $2::bigint[]) AS t(id, at) WHERE k.id = t.id`,
      [[...lastUsed.keys()], [...lastUsed.values()]],
    );
  }
}
