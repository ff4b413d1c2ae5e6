import {
  type ApiKeys,
  createAccessTokenSigner,
  createAccessTokenVerifier,
  createApiKeys,
  createAuth,
  createKeySet,
  createPasswordHasher,
  createRefreshTokenManager,
  RedisApiKeyStore,
  RedisRefreshTokenStore,
} from '@org/auth';
import { createToolkit, type Plugin, type Route, type Toolkit } from '@org/core';
import {
  accessLog,
  createHealthChecks,
  createLogger,
  createMetrics,
  type HealthChecks,
  type LoadShedder,
  loadShedding,
  type Metrics,
  redisCheck,
  requestId,
  type SecurityEventLog,
  securityEventLog,
} from '@org/observability';
import {
  clientIp,
  cors,
  createLoginGuard,
  MemoryIdempotencyStore,
  noStore,
  RedisIdempotencyStore,
  RedisRateLimitStore,
  rateLimitPlugin,
  securityHeaders,
} from '@org/security';
import type { Redis } from 'ioredis';
import { type ExampleConfig, loadExampleConfig, trustProxyOf } from '../config.ts';
import { SessionService } from '../users/session-service.ts';
import { UserService } from '../users/user-service.ts';
import { apiKeyRoutes } from './api-key-routes.ts';
import { docsRoutes } from './docs.ts';
import { createRedisClient, loadSigningKey } from './infrastructure.ts';
import { operationsRoutes } from './operations.ts';
import { userRoutes } from './routes.ts';
import { openStorage, type Storage } from './storage.ts';
import { type WebSocketEndpoint, webSocketEndpoint } from './websocket.ts';

/** Issuer and audience of the access tokens this API signs and accepts. */
const TOKEN_ISSUER = 'urn:example:users-api';
/** The start of every API key (`usersapi_<id>_<secret><checksum>`), for secret scanners. */
const API_KEY_PREFIX = 'usersapi';
/** Probes and scrapes: never rate limited, and logged only when they fail. */
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

/** The users API, built once and mounted by any framework. */
export interface UsersApi {
  readonly framework: string;
  readonly config: ExampleConfig;
  /** The toolkit every adapter is created over. */
  readonly toolkit: Toolkit;
  /**
   * Every route, framework-neutral, in the order to mount them with the adapter's
   * `mount`; `/openapi.json` documents what was mounted.
   */
  readonly routes: readonly Route[];
  /** `GET /api/v1/ws`: attach its `upgrade` listener to the framework's server. */
  readonly webSocket: WebSocketEndpoint;
  readonly logger: ReturnType<typeof createLogger>;
  readonly health: HealthChecks;
  readonly metrics: Metrics;
  /** Closes Redis and the database (graceful shutdown calls it). */
  close(): Promise<void>;
}

/** `Cache-Control: no-store` on every answer under `prefix`, set before anything can answer. */
function noStoreUnder(prefix: string): Plugin {
  return {
    name: 'no-store',
    onRequest: (ctx) => {
      if (ctx.request.path.startsWith(prefix)) noStore(ctx);
    },
  };
}

/** Options of {@link createUsersApi}. */
export interface UsersApiOptions {
  /** Shown in logs, the banner and the API reference. */
  framework: string;
  /** Where configuration is read. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Builds the whole API from the environment: the database (SQLite, or PostgreSQL when
 * `DATABASE_URL` is set), keys, Redis when `REDIS_URL` is set, API keys, auth, limits,
 * the login guard, logs, metrics, health, the plugins and the route table. Seeds the
 * admin when asked.
 */
export async function createUsersApi(options: UsersApiOptions): Promise<UsersApi> {
  const config = loadExampleConfig(options.env);
  const logger = createLogger({
    level: config.LOG_LEVEL,
    pretty: config.profile === 'development',
    base: { service: 'users-api', framework: options.framework },
  });
  // Logins, lockouts, refused tokens, refresh reuse, API keys and rate limits, one line each.
  const securityLog = securityEventLog({ logger });
  const storage = await openStorage(config, logger);
  const repository = storage.users;
  const redis =
    config.REDIS_URL === undefined ? undefined : await createRedisClient(config.REDIS_URL, logger);

  const keySet = createKeySet({ signingKey: await loadSigningKey(config.SIGNING_KEY_FILE) });
  const tokenOptions = { keySet, issuer: TOKEN_ISSUER, audience: TOKEN_ISSUER };
  const hasher = createPasswordHasher();
  // The database's when it is PostgreSQL, else Redis when there is one: sessions then
  // survive restarts and span instances. Memory otherwise.
  const refreshStore =
    storage.refreshFamilies ??
    (redis === undefined
      ? undefined
      : new RedisRefreshTokenStore({ client: redis, prefix: 'users-api:refresh:' }));
  const refreshTokens = createRefreshTokenManager(
    refreshStore === undefined ? {} : { store: refreshStore },
  );
  // One store for both limiters; without Redis each gets its own memory store.
  const limits =
    redis === undefined
      ? {}
      : { store: new RedisRateLimitStore({ client: redis, prefix: 'users-api:rl:' }) };
  // API keys beside the users (the `api_keys` table); with SQLite and Redis, in Redis
  // with the sessions, so every instance sees a revocation.
  const apiKeys = createApiKeys({
    store:
      config.DATABASE_URL === undefined && redis !== undefined
        ? new RedisApiKeyStore({ client: redis, prefix: 'users-api:apikey:' })
        : storage.apiKeys,
    prefix: API_KEY_PREFIX,
    onError: (error) => logger.warn({ err: error }, 'api key last-used time not written'),
  });
  const auth = createAuth({
    verifier: createAccessTokenVerifier(tokenOptions),
    apiKeys,
    loadUser: (id) => repository.findById(id),
    isActive: (user) => user.isActive,
    roles: ['admin', 'user'],
    roleHierarchy: { admin: ['user'], user: [] },
  });
  const users = new UserService({ users: repository, hasher, refreshTokens });
  const sessions = new SessionService({
    users: repository,
    hasher,
    refreshTokens,
    signer: createAccessTokenSigner({ ...tokenOptions, expiresIn: 15 * 60 }),
    loginGuard: createLoginGuard(limits),
  });

  const metrics = createMetrics();
  // Past 1 s of event-loop delay or 90% of the heap, answer 503 at once (probes excepted).
  const shedder = loadShedding({ registry: metrics.registry, skip: [...PROBES] });
  const health = createHealthChecks({
    checks: {
      // Reported (warn) but not failing readiness: every instance of a busy fleet would leave at once.
      load: { check: shedder.check, critical: false },
      database: storage.check,
      ...(redis === undefined ? {} : { redis: redisCheck(redis) }),
    },
    logger,
  });
  const toolkit = createToolkit({
    development: config.profile === 'development',
    // No route may hold a client longer: past it, 504 and ctx.signal aborts the work.
    deadlineMs: 10_000,
    plugins: [
      // Every answer under /api is personal or carries credentials, its errors and 429s
      // included: no cache may keep it (RFC 6749 5.1, RFC 9111 5.2.2.5).
      noStoreUnder('/api/'),
      requestId(),
      clientIp({ trustProxy: trustProxyOf(config.TRUST_PROXY), logger }),
      securityHeaders(),
      cors({ origins: config.CORS_ORIGINS }),
      // After the plugins that set headers, so a shed request gets them too.
      shedder.plugin,
      accessLog({
        logger,
        skip: (ctx, info) => info.status < 400 && PROBES.has(ctx.request.path),
      }),
      metrics.plugin,
      // Last, so the 429s it throws are logged and counted like any answer.
      rateLimitPlugin({
        name: 'per-ip',
        limit: config.RATE_LIMIT_PER_MINUTE,
        windowMs: 60_000,
        skip: [...PROBES],
        ...limits,
      }),
    ],
  });

  if (config.SEED_ADMIN_EMAIL !== undefined && config.SEED_ADMIN_PASSWORD !== undefined) {
    const email = config.SEED_ADMIN_EMAIL.toLowerCase();
    if ((await repository.findByEmail(email)) === undefined) {
      await users.create({ email, password: config.SEED_ADMIN_PASSWORD }, ['admin']);
      logger.info({ email }, 'admin user created');
    }
  }

  return {
    framework: options.framework,
    config,
    toolkit,
    routes: [
      ...userRoutes({
        auth,
        users,
        sessions,
        // Replayed responses hold users' data: one instance keeps them in memory, several share Redis.
        idempotencyStore:
          redis === undefined
            ? new MemoryIdempotencyStore()
            : new RedisIdempotencyStore({ client: redis, prefix: 'users-api:idem:' }),
      }),
      ...apiKeyRoutes({ auth, apiKeys }),
      ...operationsRoutes({ keySet, health, metrics }),
      ...docsRoutes(toolkit, options.framework),
    ],
    webSocket: webSocketEndpoint(toolkit, auth.principal),
    logger,
    health,
    metrics,
    close: () => closeAll(shedder, securityLog, metrics, apiKeys, redis, storage),
  };
}

async function closeAll(
  shedder: LoadShedder,
  securityLog: SecurityEventLog,
  metrics: Metrics,
  apiKeys: ApiKeys,
  redis: Redis | undefined,
  storage: Storage,
) {
  shedder.close();
  securityLog.close();
  metrics.close();
  // The pending last-used times, while their store is still open; a failure only loses those.
  await apiKeys.flush().catch(() => {});
  await redis?.quit().catch(() => redis.disconnect());
  await storage.close().catch(() => {});
}
