import { ConfigurationError } from '@org/core';

/**
 * What the PostgreSQL stores need of a client: node-postgres' `query(text, values)`.
 * A `pg` `Pool` satisfies it (so do a `Client` and a pool's checked-out client);
 * `@org/auth` never imports `pg` itself.
 *
 * @example
 * ```ts
 * import { Pool } from 'pg';
 * const client: PostgresClient = new Pool({ connectionString: process.env.DATABASE_URL });
 * ```
 */
export interface PostgresClient {
  /** Runs one statement with `$1`, `$2`... parameters; without `values`, may run several. */
  query(text: string, values?: unknown[]): Promise<PostgresQueryResult>;
}

/**
 * The part of a node-postgres `QueryResult` the stores read.
 *
 * @example
 * ```ts
 * const { rows, rowCount }: PostgresQueryResult = await pool.query('SELECT 1 AS one');
 * ```
 */
export interface PostgresQueryResult {
  /** The rows, one object per row keyed by column name. */
  readonly rows: readonly Record<string, unknown>[];
  /** Rows inserted, updated or deleted; null for a statement that reports none. */
  readonly rowCount: number | null;
}

/** An unquoted SQL identifier, short enough for the index names derived from it. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

/** A checked table name: quoted for statements, and the bare name for its indexes' names. */
export interface TableName {
  /** `"schema"."table"` or `"table"`. */
  readonly quoted: string;
  /** The table's own name, unquoted, to name its indexes. */
  readonly name: string;
}

/** Refuses anything but a PostgreSQL client at construction, naming the option. */
export function checkClient(store: string, client: PostgresClient | undefined): PostgresClient {
  if (typeof client?.query !== 'function') {
    throw new ConfigurationError(
      `${store} needs options.client: a pg Pool (new Pool({ connectionString })) or anything with its query(text, values).`,
    );
  }
  return client;
}

/**
 * Checks a `table` or `schema.table` option: each part letters, digits and `_`, so it
 * can be spliced into SQL (identifiers cannot be parameters). Quoted, so a reserved
 * word works and the case is kept.
 */
export function tableName(store: string, value: string): TableName {
  const parts = value.split('.');
  if (parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) {
    throw new ConfigurationError(
      `${store}: table must be a name or schema.name, each letters, digits and '_' (at most 48), not starting with a digit; received ${JSON.stringify(value)}.`,
    );
  }
  return {
    quoted: parts.map((part) => `"${part}"`).join('.'),
    name: parts[parts.length - 1] as string,
  };
}

/**
 * Serializes concurrent `createTables()` calls of every instance: two concurrent
 * `CREATE TABLE IF NOT EXISTS` of one table may both try to create it. The lock is
 * held until the end of the (implicit) transaction of the multi-statement query.
 */
export function lockedDdl(name: string, statements: string): string {
  return `SELECT pg_advisory_xact_lock(hashtext('org-auth:${name}'));\n${statements}`;
}
