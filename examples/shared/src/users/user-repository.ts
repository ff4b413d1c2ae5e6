import { randomUUID } from 'node:crypto';
import type { DatabaseSync, StatementSync } from 'node:sqlite';

/** A stored user, as the services see it. */
export interface UserRecord {
  readonly id: string;
  readonly email: string;
  readonly name: string | null;
  readonly passwordHash: string;
  readonly roles: readonly string[];
  readonly isActive: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** What a new user needs; the repository assigns the id and timestamps. */
export interface NewUser {
  readonly email: string;
  readonly name: string | null;
  readonly passwordHash: string;
  readonly roles: readonly string[];
}

/** A value, or a promise of it: SQLite answers at once, PostgreSQL later. */
type Awaitable<T> = T | Promise<T>;

/**
 * Where users live: {@link UserRepository} on SQLite (`DATABASE_PATH`), or
 * `PostgresUserRepository` on PostgreSQL (`DATABASE_URL`). The services await every call.
 */
export interface UserStore {
  findById(id: string): Awaitable<UserRecord | undefined>;
  findByEmail(email: string): Awaitable<UserRecord | undefined>;
  /** @throws {@link DuplicateEmailError} when the email is taken (also under a race). */
  insert(user: NewUser): Awaitable<UserRecord>;
  /** Sets the name; undefined when the user is gone. */
  updateName(id: string, name: string): Awaitable<UserRecord | undefined>;
  /** Stores a fresh hash (rehash on login after a cost change). */
  setPasswordHash(id: string, passwordHash: string): Awaitable<void>;
  /** One page, oldest first, and the total count. */
  list(limit: number, offset: number): Awaitable<{ items: UserRecord[]; total: number }>;
  /** True when a user was deleted. */
  delete(id: string): Awaitable<boolean>;
}

/** The email is taken: the UNIQUE constraint refused the insert. */
export class DuplicateEmailError extends Error {
  static readonly code = 'ERR_DUPLICATE_EMAIL';
  readonly code = DuplicateEmailError.code;
  constructor() {
    super('A user with this email already exists.');
    this.name = 'DuplicateEmailError';
  }
}

interface UserRow {
  id: string;
  email: string;
  name: string | null;
  password_hash: string;
  roles: string;
  is_active: number;
  created_at: string;
  updated_at: string;
}

const COLUMNS = 'id, email, name, password_hash, roles, is_active, created_at, updated_at';

function toRecord(row: UserRow): UserRecord {
  return Object.freeze({
    id: row.id,
    email: row.email,
    name: row.name,
    passwordHash: row.password_hash,
    roles: Object.freeze(JSON.parse(row.roles) as string[]),
    isActive: row.is_active === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

/** SQLite's extended code for a UNIQUE constraint failure. */
const SQLITE_CONSTRAINT_UNIQUE = 2067;

/**
 * The users table. Every statement is prepared once, here, and takes bound
 * parameters only: no SQL is ever built from input.
 */
export class UserRepository implements UserStore {
  readonly #byId: StatementSync;
  readonly #byEmail: StatementSync;
  readonly #insert: StatementSync;
  readonly #updateName: StatementSync;
  readonly #updateHash: StatementSync;
  readonly #page: StatementSync;
  readonly #count: StatementSync;
  readonly #delete: StatementSync;

  constructor(db: DatabaseSync) {
    this.#byId = db.prepare(`SELECT ${COLUMNS} FROM users WHERE id = ?`);
    this.#byEmail = db.prepare(`SELECT ${COLUMNS} FROM users WHERE email = ?`);
    this.#insert = db.prepare(
      `INSERT INTO users (${COLUMNS}) VALUES (?, ?, ?, ?, ?, 1, ?, ?) RETURNING ${COLUMNS}`,
    );
    this.#updateName = db.prepare(
      `UPDATE users SET name = ?, updated_at = ? WHERE id = ? RETURNING ${COLUMNS}`,
    );
    this.#updateHash = db.prepare(
      'UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?',
    );
    this.#page = db.prepare(
      `SELECT ${COLUMNS} FROM users ORDER BY created_at, id LIMIT ? OFFSET ?`,
    );
    this.#count = db.prepare('SELECT COUNT(*) AS total FROM users');
    this.#delete = db.prepare('DELETE FROM users WHERE id = ?');
  }

  findById(id: string): UserRecord | undefined {
    const row = this.#byId.get(id) as UserRow | undefined;
    return row && toRecord(row);
  }

  findByEmail(email: string): UserRecord | undefined {
    const row = this.#byEmail.get(email) as UserRow | undefined;
    return row && toRecord(row);
  }

  /** @throws {@link DuplicateEmailError} when the email is taken (also under a race). */
  insert(user: NewUser): UserRecord {
    const now = new Date().toISOString();
    try {
      const row = this.#insert.get(
        randomUUID(),
        user.email,
        user.name,
        user.passwordHash,
        JSON.stringify(user.roles),
        now,
        now,
      ) as unknown as UserRow;
      return toRecord(row);
    } catch (error) {
      if ((error as { errcode?: number }).errcode === SQLITE_CONSTRAINT_UNIQUE) {
        throw new DuplicateEmailError();
      }
      throw error;
    }
  }

  /** Sets the name; undefined when the user is gone. */
  updateName(id: string, name: string): UserRecord | undefined {
    const row = this.#updateName.get(name, new Date().toISOString(), id) as UserRow | undefined;
    return row && toRecord(row);
  }

  /** Stores a fresh hash (rehash on login after a cost change). */
  setPasswordHash(id: string, passwordHash: string): void {
    this.#updateHash.run(passwordHash, new Date().toISOString(), id);
  }

  /** One page, oldest first, and the total count. */
  list(limit: number, offset: number): { items: UserRecord[]; total: number } {
    const rows = this.#page.all(limit, offset) as unknown as UserRow[];
    const { total } = this.#count.get() as { total: number };
    return { items: rows.map(toRecord), total };
  }

  /** True when a user was deleted. */
  delete(id: string): boolean {
    return Number(this.#delete.run(id).changes) > 0;
  }
}
