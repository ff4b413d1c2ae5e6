import { randomUUID } from 'node:crypto';
import { ServiceUnavailableError } from '@org/core';
import type { Pool, QueryResultRow } from 'pg';
import {
  DuplicateEmailError,
  type NewUser,
  type UserRecord,
  type UserStore,
} from './user-repository.ts';

interface UserRow {
  id: string;
  email: string;
  name: string | null;
  password_hash: string;
  roles: string[];
  is_active: boolean;
  created_at: string;
  updated_at: string;
}

const COLUMNS = 'id, email, name, password_hash, roles, is_active, created_at, updated_at';
/** PostgreSQL's SQLSTATE for a unique violation. */
const UNIQUE_VIOLATION = '23505';

function toRecord(row: UserRow): UserRecord {
  return Object.freeze({
    id: row.id,
    email: row.email,
    name: row.name,
    passwordHash: row.password_hash,
    roles: Object.freeze([...row.roles]),
    isActive: row.is_active,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

/**
 * The users table on PostgreSQL, for `DATABASE_URL`: the same records as the SQLite
 * `UserRepository`, every statement with bound parameters only.
 */
export class PostgresUserRepository implements UserStore {
  readonly #pool: Pool;

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /** Creates the table if missing; an advisory lock keeps instances starting together apart. */
  async migrate(): Promise<void> {
    await this.#pool.query(`
      DO $$ BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('example-users'));
        CREATE TABLE IF NOT EXISTS users (
          id text PRIMARY KEY,
          email text NOT NULL,
          name text,
          password_hash text NOT NULL,
          roles text[] NOT NULL,
          is_active boolean NOT NULL DEFAULT true,
          created_at text NOT NULL,
          updated_at text NOT NULL
        );
        -- Case-insensitive, as SQLite's COLLATE NOCASE.
        CREATE UNIQUE INDEX IF NOT EXISTS users_email ON users (lower(email));
        CREATE INDEX IF NOT EXISTS users_created_at ON users (created_at, id);
      END $$`);
  }

  /** A query whose failure (the database down or too slow) is a 503, never a 500. */
  async #query<R extends QueryResultRow>(text: string, values: unknown[] = []) {
    try {
      return await this.#pool.query<R>(text, values);
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) throw new DuplicateEmailError();
      throw new ServiceUnavailableError({
        code: 'ERR_DATABASE_UNAVAILABLE',
        detail: 'The database is unavailable; retry later.',
        retryAfter: 1,
        cause: error,
      });
    }
  }

  async #one(text: string, values: unknown[]): Promise<UserRecord | undefined> {
    const { rows } = await this.#query<UserRow>(text, values);
    const row = rows[0];
    return row && toRecord(row);
  }

  findById(id: string): Promise<UserRecord | undefined> {
    return this.#one(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
  }

  findByEmail(email: string): Promise<UserRecord | undefined> {
    return this.#one(`SELECT ${COLUMNS} FROM users WHERE lower(email) = lower($1)`, [email]);
  }

  async insert(user: NewUser): Promise<UserRecord> {
    const now = new Date().toISOString();
    const { rows } = await this.#query<UserRow>(
      `INSERT INTO users (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, true, $6, $6) RETURNING ${COLUMNS}`,
      [randomUUID(), user.email, user.name, user.passwordHash, [...user.roles], now],
    );
    return toRecord(rows[0] as UserRow);
  }

  updateName(id: string, name: string): Promise<UserRecord | undefined> {
    return this.#one(
      `UPDATE users SET name = $1, updated_at = $2 WHERE id = $3 RETURNING ${COLUMNS}`,
      [name, new Date().toISOString(), id],
    );
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.#query('UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3', [
      passwordHash,
      new Date().toISOString(),
      id,
    ]);
  }

  async list(limit: number, offset: number): Promise<{ items: UserRecord[]; total: number }> {
    const [page, count] = await Promise.all([
      this.#query<UserRow>(
        `SELECT ${COLUMNS} FROM users ORDER BY created_at, id LIMIT $1 OFFSET $2`,
        [limit, offset],
      ),
      this.#query<{ total: string }>('SELECT COUNT(*) AS total FROM users'),
    ]);
    return { items: page.rows.map(toRecord), total: Number(count.rows[0]?.total ?? 0) };
  }

  async delete(id: string): Promise<boolean> {
    const { rowCount } = await this.#query('DELETE FROM users WHERE id = $1', [id]);
    return (rowCount ?? 0) > 0;
  }
}
