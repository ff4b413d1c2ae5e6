// The users database the FastAPI guide's snippets take as given, in memory, shared by
// preludes/fastapi-app.ts and preludes/fastapi-overrides.ts: a pool of connections whose
// writes wait for commit (or are dropped by rollback), the repository over a connection,
// its in-memory stand-in for tests, and the password hasher and createUser the routes use.
import { createPasswordHasher } from '@org/auth';
import { ConflictError } from '@org/core';

export interface UserRecord {
  id: number;
  email: string;
  name?: string | undefined;
  roles: string[];
  passwordHash: string;
}
/** What a route may show of a user: never the password hash. */
export type PublicUser = Omit<UserRecord, 'passwordHash'>;

const publicView = ({ passwordHash: _, ...user }: UserRecord): PublicUser => user;

/** One connection of a {@link Pool}: reads see its own pending writes. */
export class Connection {
  readonly #pool: Pool;
  #pending: UserRecord[] = [];
  #released = false;

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  #rows(): UserRecord[] {
    if (this.#released) throw new Error('connection used after release()');
    return [...this.#pool.rows, ...this.#pending];
  }

  async find(match: (row: UserRecord) => boolean): Promise<UserRecord | undefined> {
    return this.#rows().find(match);
  }

  async insert(row: Omit<UserRecord, 'id'>): Promise<UserRecord> {
    const inserted = { ...row, id: this.#rows().length + 1 };
    this.#pending.push(inserted);
    return inserted;
  }

  async commit(): Promise<void> {
    this.#pool.rows.push(...this.#pending);
    this.#pending = [];
    this.#pool.stats.commits += 1;
  }

  async rollback(): Promise<void> {
    this.#pending = [];
    this.#pool.stats.rollbacks += 1;
  }

  release(): void {
    this.#released = true;
    this.#pool.stats.released += 1;
  }
}

/** The table and its connections; `stats` counts what the dependency's teardown did. */
export class Pool {
  readonly rows: UserRecord[];
  readonly stats = { connected: 0, commits: 0, rollbacks: 0, released: 0 };

  constructor(rows: UserRecord[]) {
    this.rows = [...rows];
  }

  async connect(): Promise<Connection> {
    this.stats.connected += 1;
    return new Connection(this);
  }
}

export class UserRepository {
  readonly #db: Connection;

  constructor(db: Connection) {
    this.#db = db;
  }

  async findById(id: number): Promise<PublicUser | undefined> {
    const row = await this.#db.find((user) => user.id === id);
    return row && publicView(row);
  }

  /** The whole record, password hash included, for the login. */
  findByEmail(email: string): Promise<UserRecord | undefined> {
    return this.#db.find((user) => user.email === email.toLowerCase());
  }

  async create(user: Omit<UserRecord, 'id'>): Promise<PublicUser> {
    if (await this.findByEmail(user.email)) {
      throw new ConflictError({ code: 'ERR_EMAIL_TAKEN', detail: 'That email is registered.' });
    }
    return publicView(await this.#db.insert({ ...user, email: user.email.toLowerCase() }));
  }
}

/** The repository over a table of its own, for tests. */
export class InMemoryUsers extends UserRepository {
  constructor(fixtures: UserRecord[]) {
    super(new Connection(new Pool(fixtures)));
  }
}

// Cheaper than the default cost (2^15): these users sign in once per run.
export const hasher = createPasswordHasher({ logN: 12 });
export const ann: UserRecord = {
  id: 1,
  email: 'ann@example.com',
  name: 'Ann',
  roles: ['admin'],
  passwordHash: await hasher.hash('correct horse battery staple'),
};
export const pool = new Pool([ann]);

/** Registers a user: its own connection, committed, or rolled back when the email is taken. */
export async function createUser(input: {
  email: string;
  password: string;
  name?: string | undefined;
}): Promise<PublicUser> {
  const connection = await pool.connect();
  try {
    const users = new UserRepository(connection);
    const { password, ...rest } = input;
    const user = await users.create({
      ...rest,
      roles: ['user'],
      passwordHash: await hasher.hash(password),
    });
    await connection.commit();
    return user;
  } catch (error) {
    await connection.rollback();
    throw error;
  } finally {
    connection.release();
  }
}
