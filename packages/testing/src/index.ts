/**
 * Test helpers for apps built on the `@org` toolkit: one fake clock for every part
 * that reads time, dependency overrides (FastAPI's `dependency_overrides`), token
 * minting and forgery, real servers (`redis-server` single, as a Cluster or behind
 * Sentinel, and PostgreSQL), an in-process request helper for express, fastify, koa,
 * hono and node:http apps, and a security conformance suite
 * any app can run against itself (`securityConformance` from `@org/testing/vitest`,
 * so this entry never needs vitest).
 *
 * @module
 */
export {
  createTestClock,
  type FakeTimerControls,
  type TestClock,
  type TestClockOptions,
} from './clock/test-clock.js';
export {
  ConformanceError,
  ConformanceSkip,
} from './conformance/conformance-error.js';
export { hostileOrigins } from './conformance/groups/cors.js';
export { DEFAULT_SECURITY_HEADERS } from './conformance/groups/security-headers.js';
export {
  type ConformancePlan,
  type ConformanceReport,
  createConformanceChecks,
  runConformance,
} from './conformance/plan.js';
export type {
  ConformanceApiKeys,
  ConformanceCheck,
  ConformanceCredentials,
  ConformanceGroup,
  ConformanceGroupId,
  ConformanceRoutes,
  SecurityConformanceOptions,
} from './conformance/types.js';
export { TestingError, type TestingErrorCode } from './errors/testing-error.js';
export {
  type HasOverrides,
  type OverrideEntries,
  type OverrideEntry,
  type OverrideHandle,
  overrideDependency,
  withOverrides,
} from './overrides/overrides.js';
export { freePort } from './ports/free-port.js';
export {
  PostgresNotInstalledError,
  PostgresStartError,
} from './postgres/postgres-errors.js';
export {
  type PostgresServer,
  type StartPostgresOptions,
  startPostgres,
} from './postgres/start-postgres.js';
export {
  RedisHarnessError,
  type RedisHarnessFailure,
  RedisNotInstalledError,
} from './redis/redis-errors.js';
export type { RedisFailover, RedisNodeAddress } from './redis/redis-topology.js';
export {
  type RedisServer,
  type StartRedisOptions,
  startRedis,
} from './redis/start-redis.js';
export {
  type RedisCluster,
  type RedisClusterMasterTarget,
  type StartRedisClusterOptions,
  startRedisCluster,
} from './redis/start-redis-cluster.js';
export {
  type RedisSentinelSet,
  type StartRedisSentinelOptions,
  startRedisSentinel,
} from './redis/start-redis-sentinel.js';
export {
  createRequester,
  type Requester,
  type RequestTarget,
  type TestRequestOptions,
  type TestResponse,
} from './requests/requester.js';
export {
  type DeriveForgeriesOptions,
  deriveForgeries,
  type PublicJwk,
} from './tokens/derive-forgeries.js';
export type {
  DerivedForgeryName,
  Forgery,
  ForgeryName,
  SignedForgeryName,
} from './tokens/forgery-names.js';
export { createRefreshTokenString } from './tokens/refresh-token.js';
export {
  createTestKey,
  type TestJwk,
  type TestKey,
  type TestKeyAlgorithm,
  type TestKeyOptions,
} from './tokens/test-key.js';
export {
  createTokenFactory,
  type MintOptions,
  type PublicKeySource,
  type TokenFactory,
  type TokenFactoryOptions,
} from './tokens/token-factory.js';
