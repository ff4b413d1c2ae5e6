import { join } from 'node:path';
import { freePort, type PostgresServer, startPostgres, type TokenFactory } from '@org/testing';
import { securityConformance } from '@org/testing/vitest';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { apiKeysContract } from './contract-api-keys.ts';
import { authContract } from './contract-auth.ts';
import { idempotencyContract } from './contract-idempotency.ts';
import { platformContract } from './contract-platform.ts';
import { usersContract } from './contract-users.ts';
import { webSocketContract } from './contract-websocket.ts';
import {
  type ExampleName,
  lazily,
  type RunningExample,
  startExample,
  stopAllExamples,
} from './example-process.ts';
import { createExampleFixture, type ExampleFixture } from './fixture.ts';
import { type Account, Api, type Session } from './http.ts';
import { defaultLimitContract } from './limits.ts';
import { redisContract } from './redis.ts';

/** What the contract tests of one example share. */
export interface ContractContext {
  readonly example: RunningExample;
  readonly api: Api;
  /** The seeded admin. */
  readonly admin: { readonly email: string; readonly password: string };
  /** Mints tokens with the example's own signing key (given through SIGNING_KEY_FILE). */
  readonly tokens: TokenFactory;
  /** The origin in CORS_ORIGINS. */
  readonly corsOrigin: string;
  /** A signed-in user that tests only read with (its profile is never changed). */
  readonly reader: Session;
  /** An access token of the seeded admin. */
  readonly adminToken: string;
  /** An access token for `account`, minted with the example's key instead of a login. */
  mint(account: Account): Promise<string>;
}

/** A group of tests on its own process, which it can start ahead of its turn. */
export interface ProcessGroup {
  warmUp(): void;
  /** Frees what the group started besides example processes (a redis-server). */
  close?(): Promise<void>;
}

/**
 * Registers the end-to-end tests of one example: the contract table on a shared
 * process (tests run concurrently, each with its own users), the default rate limit
 * and graceful shutdown on a fresh process, and the Redis scenario with an outage on a
 * third. All three processes start together, ahead of their groups. Every process is
 * started as a user would: `node src/main.ts` with environment.
 */
export async function exampleSuite(name: ExampleName): Promise<void> {
  const fixture = await createExampleFixture(name);
  describe(`examples/${name}`, () => {
    const groups = [
      contractGroup(fixture),
      // One example runs the whole contract on PostgreSQL too (DATABASE_URL).
      ...(name === POSTGRES_EXAMPLE ? [contractGroup(fixture, 'postgres')] : []),
      defaultLimitContract(name),
      redisContract(name, fixture.env),
    ];
    beforeAll(() => {
      for (const group of groups) group.warmUp();
    });
    afterAll(async () => {
      await stopAllExamples();
      for (const group of groups) await group.close?.();
    });
  });
}

/** The example whose contract also runs on a real PostgreSQL server. */
const POSTGRES_EXAMPLE: ExampleName = 'node-http';

function contractGroup(
  fixture: ExampleFixture,
  database: 'sqlite' | 'postgres' = 'sqlite',
): ProcessGroup {
  let postgres: PostgresServer | undefined;
  const start = lazily(async () => {
    if (database === 'postgres') postgres = await startPostgres();
    return startExample(fixture.name, {
      env: {
        ...fixture.env(),
        RATE_LIMIT_PER_MINUTE: '100000',
        ...(postgres === undefined
          ? { DATABASE_PATH: join(fixture.dir, 'users.db') }
          : { DATABASE_URL: postgres.url }),
        // Every line, access lines included: the API key tests search them for keys.
        LOG_LEVEL: 'debug',
      },
    });
  });
  const title =
    database === 'sqlite'
      ? 'the example contract (one shared process)'
      : 'the example contract on PostgreSQL (DATABASE_URL, one shared process)';
  describe.concurrent(title, () => {
    let context: ContractContext | undefined;
    beforeAll(async () => {
      const example = await start();
      const { admin, tokens, corsOrigin } = fixture;
      const api = new Api(example.url);
      context = {
        example,
        api,
        admin,
        tokens,
        corsOrigin,
        reader: await api.signUp('reader'),
        adminToken: (await api.login(admin.email, admin.password)).access_token,
        // Logins are tested on their own; elsewhere a minted token saves the server a hash.
        mint: (account) => tokens.accessToken({ subject: account.id, roles: ['user'] }),
      };
    });
    afterAll(async () => {
      if (context === undefined) return;
      // SIGTERM drains and exits 0: graceful shutdown with Redis absent.
      const code = await context.example.stop('SIGTERM');
      expect(code, context.example.output()).toBe(0);
    });
    const get = () => context as ContractContext;
    authContract(get);
    usersContract(get);
    platformContract(get);
    apiKeysContract(get);
    webSocketContract(get);
    idempotencyContract(get);
  });
  return { warmUp: () => void start(), close: () => postgres?.stop() ?? Promise.resolve() };
}

const CONFORMANCE_USER = { username: 'ann@example.com', password: 'correct horse battery staple' };
/** Above what the groups before the rate-limit group spend, so only that group meets the limit. */
const CONFORMANCE_RATE_LIMIT = 300;

/**
 * Registers the `@org/testing` security conformance suite against one example, on
 * its own process (its rate-limit group needs the per-IP window to itself).
 */
export async function conformanceSuite(name: ExampleName): Promise<void> {
  const fixture = await createExampleFixture(name);
  // Chosen now: the suite takes its base URL when its tests are registered.
  const port = await freePort();
  describe(`examples/${name}`, () => {
    let example: RunningExample | undefined;
    beforeAll(async () => {
      example = await startExample(name, {
        env: {
          ...fixture.env(),
          PORT: String(port),
          RATE_LIMIT_PER_MINUTE: String(CONFORMANCE_RATE_LIMIT),
          // Every line, so the api-keys group's search of the log can find a leaked key.
          LOG_LEVEL: 'debug',
        },
      });
      const registered = await new Api(example.url).post('/api/v1/auth/register', {
        json: { email: CONFORMANCE_USER.username, password: CONFORMANCE_USER.password },
      });
      expect(registered.status, registered.text).toBe(201);
    });
    afterAll(stopAllExamples);
    securityConformance({
      name: '@org/testing securityConformance()',
      baseUrl: `http://127.0.0.1:${port}`,
      routes: {
        protected: '/api/v1/users/me',
        admin: '/api/v1/users',
        login: '/api/v1/auth/login',
        refresh: '/api/v1/auth/refresh',
        logout: '/api/v1/auth/logout',
        jwks: '/.well-known/jwks.json',
        rateLimited: '/api/v1/users/me',
        public: '/healthz',
      },
      credentials: {
        user: CONFORMANCE_USER,
        admin: { username: fixture.admin.email, password: fixture.admin.password },
      },
      tokenFactory: fixture.tokens,
      cors: { allowedOrigin: fixture.corsOrigin },
      rateLimit: { limit: CONFORMANCE_RATE_LIMIT },
      apiKeys: {
        create: '/api/v1/api-keys',
        revoke: '/api/v1/api-keys/:id',
        list: '/api/v1/api-keys',
        // Every line the process wrote, searched for the keys the group created.
        logs: () => example?.everything() ?? '',
      },
      log: () => {},
    });
  });
}
