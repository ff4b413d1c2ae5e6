import {
  checkClient,
  lockedDdl,
  type PostgresClient,
  type TableName,
  tableName,
} from '../internal/postgres.js';
import type {
  NewRefreshTokenFamily,
  RefreshTokenStore,
  RotationRequest,
  RotationResult,
} from './types.js';

export type { PostgresClient, PostgresQueryResult } from '../internal/postgres.js';

/**
 * Options of {@link PostgresRefreshTokenStore}.
 *
 * @example
 * ```ts
 * new PostgresRefreshTokenStore({ client: pool, table: 'auth.refresh_families' });
 * ```
 */
export interface PostgresRefreshTokenStoreOptions {
  /**
   * A node-postgres `Pool` you create and close (or anything with its
   * `query(text, values)`). Make it fail fast when the database is down, or a refresh
   * waits instead of answering 503: `new Pool({ connectionString, connectionTimeoutMillis: 2000, query_timeout: 5000 })`,
   * and listen to its `'error'` event (an idle connection lost otherwise crashes the process).
   */
  client: PostgresClient;
  /** The table of families, as `name` or `schema.name`: letters, digits and `_`. @default 'refresh_token_families' */
  table?: string;
}

/** Expired families one `create` deletes on its way, so the table does not grow forever. */
const SWEEP = 4;

/** The presented token is the current one and neither it nor its family has ended. */
const LIVE = 'token_hash = $2::text AND $4::bigint < expires_at AND $4::bigint < family_expires_at';

/**
 * Refresh-token families in a PostgreSQL table, shared by every instance of the
 * service: one row per family with its user, current token hash, spent hashes and
 * expiry times (never a token). Rotation is one `UPDATE` on the family's row: under
 * concurrent rotations of one token, PostgreSQL runs them one after the other on that
 * row and re-checks each against the row as the previous one left it, so exactly one
 * wins and the next finds a spent token and revokes the family. A rotation that ends
 * the family (reuse, expiry) empties its current hash and the row is then deleted;
 * each new family also deletes a few expired ones.
 *
 * Call {@link PostgresRefreshTokenStore.createTables} once at start-up. Every method
 * rejects when the database cannot be reached; the manager answers 503 (fail closed).
 *
 * @example
 * ```ts
 * import { Pool } from 'pg';
 *
 * const pool = new Pool({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 2000 });
 * pool.on('error', (error) => logger.warn({ err: error }, 'postgres')); // failures reach clients as 503s
 * const store = new PostgresRefreshTokenStore({ client: pool });
 * await store.createTables();
 * const refreshTokens = createRefreshTokenManager({ store });
 * ```
 */
export class PostgresRefreshTokenStore implements RefreshTokenStore {
  readonly #client: PostgresClient;
  readonly #table: TableName;

  constructor(options: PostgresRefreshTokenStoreOptions) {
    this.#client = checkClient('PostgresRefreshTokenStore', options?.client);
    this.#table = tableName('PostgresRefreshTokenStore', options.table ?? 'refresh_token_families');
  }

  /**
   * Creates the table and its indexes if missing: safe to call from every instance at
   * every start (`IF NOT EXISTS`, serialized by an advisory lock).
   *
   * @example
   * ```ts
   * await store.createTables();
   * ```
   */
  async createTables(): Promise<void> {
    const { quoted, name } = this.#table;
    await this.#client.query(
      lockedDdl(
        quoted,
        `CREATE TABLE IF NOT EXISTS ${quoted} (
          family_id text PRIMARY KEY,
          user_id text NOT NULL,
          token_hash text,
          spent_hashes text[] NOT NULL DEFAULT '{}',
          expires_at bigint NOT NULL,
          family_expires_at bigint NOT NULL
        );
        CREATE INDEX IF NOT EXISTS "${name}_user_id" ON ${quoted} (user_id);
        CREATE INDEX IF NOT EXISTS "${name}_expires_at" ON ${quoted} (expires_at);`,
      ),
    );
  }

  async create(family: NewRefreshTokenFamily): Promise<void> {
    const table = this.#table.quoted;
    await this.#client.query(
      `WITH swept AS (
         DELETE FROM ${table} WHERE family_id IN (
           SELECT family_id FROM ${table} WHERE expires_at <= $6::bigint
           ORDER BY expires_at LIMIT ${SWEEP} FOR UPDATE SKIP LOCKED))
       INSERT INTO ${table} (family_id, user_id, token_hash, expires_at, family_expires_at)
       VALUES ($1, $2, $3, $4, $5)`,
      [
        family.familyId,
        family.userId,
        family.tokenHash,
        family.expiresAt,
        family.familyExpiresAt,
        family.now,
      ],
    );
  }

  async rotate(request: RotationRequest): Promise<RotationResult> {
    const table = this.#table.quoted;
    // SET reads the row as it was, RETURNING as it is now. A concurrent rotation that
    // changed the row first makes PostgreSQL re-check WHERE and SET on the new version.
    const { rows } = await this.#client.query(
      `UPDATE ${table} SET
         spent_hashes = CASE WHEN ${LIVE} THEN array_append(spent_hashes, token_hash) ELSE spent_hashes END,
         token_hash = CASE WHEN ${LIVE} THEN $3::text END,
         expires_at = CASE WHEN ${LIVE} THEN LEAST($4::bigint + $5::bigint, family_expires_at) ELSE 0 END
       WHERE family_id = $1 AND token_hash IS NOT NULL
         AND (token_hash = $2::text OR $2::text = ANY(spent_hashes))
       RETURNING user_id, token_hash IS NOT NULL AS rotated, $2::text = ANY(spent_hashes) AS spent,
         expires_at, family_expires_at`,
      [
        request.familyId,
        request.tokenHash,
        request.nextTokenHash,
        request.now,
        request.tokenLifetimeMs,
      ],
    );
    const row = rows[0];
    if (row === undefined) return { status: 'invalid' };
    const userId = String(row.user_id);
    if (row.rotated === true) {
      return {
        status: 'rotated',
        userId,
        expiresAt: Number(row.expires_at),
        familyExpiresAt: Number(row.family_expires_at),
      };
    }
    // The family has ended either way; its row is only a tombstone now. A failed
    // delete is harmless: nothing matches an empty current hash, and create() sweeps it.
    await this.#client
      .query(`DELETE FROM ${table} WHERE family_id = $1 AND token_hash IS NULL`, [request.familyId])
      .catch(() => {});
    // RFC 9700 4.14.2: a replayed refresh token revokes the family, newest token included.
    return { status: row.spent === true ? 'reused' : 'expired', userId };
  }

  async revoke(familyId: string, tokenHash: string): Promise<boolean> {
    const { rowCount } = await this.#client.query(
      `DELETE FROM ${this.#table.quoted} WHERE family_id = $1 AND token_hash IS NOT NULL
         AND (token_hash = $2::text OR $2::text = ANY(spent_hashes))`,
      [familyId, tokenHash],
    );
    return (rowCount ?? 0) > 0;
  }

  async revokeUser(userId: string): Promise<number> {
    const { rows } = await this.#client.query(
      `WITH removed AS (DELETE FROM ${this.#table.quoted} WHERE user_id = $1 RETURNING token_hash)
       SELECT count(*) FILTER (WHERE token_hash IS NOT NULL) AS families FROM removed`,
      [userId],
    );
    return Number(rows[0]?.families ?? 0);
  }
}
