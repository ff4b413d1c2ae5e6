import { DatabaseSync } from 'node:sqlite';

/**
 * The schema, one step per version. Steps are never edited once released: a change is
 * a new step, so a database file from any earlier version migrates forward.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE users (
     id            TEXT PRIMARY KEY,
     email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
     name          TEXT,
     password_hash TEXT NOT NULL,
     roles         TEXT NOT NULL DEFAULT '["user"]',
     is_active     INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
     created_at    TEXT NOT NULL,
     updated_at    TEXT NOT NULL
   ) STRICT;
   CREATE INDEX users_created_at ON users (created_at, id);`,
];

/**
 * Opens the SQLite database at `path` (`:memory:` for a throwaway one) and brings its
 * schema up to date, each step in its own transaction, recorded in `schema_migrations`.
 */
export function openDatabase(path: string): DatabaseSync {
  const db = new DatabaseSync(path);
  // WAL lets readers run while a write commits; busy_timeout waits out another process's lock.
  if (path !== ':memory:') db.exec('PRAGMA journal_mode = WAL;');
  db.exec('PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;');
  migrate(db);
  return db;
}

/** Applies the steps of {@link MIGRATIONS} the database has not seen yet. */
export function migrate(db: DatabaseSync): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
     version    INTEGER PRIMARY KEY,
     applied_at TEXT NOT NULL
   ) STRICT;`);
  const row = db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get() as
    | { version: number | null }
    | undefined;
  const current = row?.version ?? 0;
  const record = db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
  for (let version = current + 1; version <= MIGRATIONS.length; version++) {
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(MIGRATIONS[version - 1] as string);
      record.run(version, new Date().toISOString());
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }
}
