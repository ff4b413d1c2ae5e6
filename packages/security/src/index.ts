/**
 * Security for any Node HTTP framework, written once against `@org/core`: client IP
 * behind trusted proxies, rate limiting on memory or Redis (fixed window, sliding
 * window, GCRA; IETF `RateLimit` headers; insurance, timeouts and a circuit breaker
 * when Redis fails), login brute-force protection, strict CORS and security headers,
 * and safe retries of POST and PATCH with `Idempotency-Key` (memory or Redis).
 *
 * @module
 */

export {
  createLoginGuard,
  type LoginGuard,
  type LoginGuardOptions,
} from './brute-force/login-guard.js';
export {
  type ClientIpOptions,
  type ClientIpResolver,
  clientIp,
  createClientIpResolver,
  type WarningLogger,
} from './client-ip/client-ip.js';
export type { ProxyHeader } from './client-ip/forwarded-headers.js';
export { ipKey, normalizeIp } from './client-ip/ip-address.js';
export type { TrustProxy, TrustProxyPreset } from './client-ip/trust-proxy.js';
export { type CorsOptions, cors } from './cors/cors.js';
export type { CorsOrigins } from './cors/origin-matcher.js';
export { noStore, noStoreDependency } from './headers/no-store.js';
export {
  type HstsOptions,
  type SecurityHeadersOptions,
  securityHeaders,
} from './headers/security-headers.js';
export {
  type IdempotencyOptions,
  type IdempotencyResult,
  idempotency,
} from './idempotency/idempotency.js';
export {
  MemoryIdempotencyStore,
  type MemoryIdempotencyStoreOptions,
} from './idempotency/memory-store.js';
export {
  type RedisCommandClient,
  RedisIdempotencyStore,
  type RedisIdempotencyStoreOptions,
} from './idempotency/redis-store.js';
export type {
  IdempotencyRecord,
  IdempotencyStore,
  StoredResponse,
} from './idempotency/store.js';
export type { RateLimitDecision, RateLimitResult } from './rate-limit/decision.js';
export type { LegacyHeaders } from './rate-limit/headers.js';
export {
  MemoryRateLimitStore,
  type MemoryRateLimitStoreOptions,
} from './rate-limit/memory-store.js';
export type { RateLimitKey, RateLimitPolicy, RateLimitPolicyOptions } from './rate-limit/policy.js';
export {
  type RateLimitDependencyOptions,
  rateLimit,
  rateLimitPlugin,
} from './rate-limit/rate-limit.js';
export {
  createRateLimiter,
  type RateLimiter,
  type RateLimitOptions,
} from './rate-limit/rate-limiter.js';
export {
  type LeaseOptions,
  type RedisClientLike,
  RedisRateLimitStore,
  type RedisRateLimitStoreOptions,
} from './rate-limit/redis-store.js';
export {
  type HitResult,
  type PolicyLimits,
  type RateLimitAlgorithm,
  type RateLimitStore,
  RateLimitStoreError,
  type StoreFailureReason,
} from './rate-limit/store.js';
