/**
 * What an on-call engineer needs from every service built on the `@org` toolkit, written
 * once against `@org/core` and working on every adapter: pino logs with secrets
 * redacted and the request id (and W3C trace ids) on every line, one access line per
 * request, Prometheus metrics that cannot explode in cardinality, liveness and
 * readiness probes in `application/health+json`, and a graceful shutdown that drops
 * no request.
 *
 * @module
 */
export {
  type AccessLine,
  type AccessLogOptions,
  accessLog,
} from './access-log/access-log.js';
export {
  DependencyCheckError,
  type PingableRedis,
  type QueryableSqlite,
  redisCheck,
  sqliteCheck,
} from './health/checks.js';
export {
  createHealthChecks,
  HEALTH_CONTENT_TYPE,
  type HealthCheck,
  type HealthCheckDefinition,
  type HealthChecks,
  type HealthChecksOptions,
  type HealthReport,
  type HealthStatus,
} from './health/health-checks.js';
export { type CheckResult, HealthCheckTimeoutError } from './health/run-check.js';
export type { StructuredLogger } from './internal/options.js';
export {
  type LoadShedder,
  type LoadSheddingOptions,
  loadShedding,
  type OverloadReason,
} from './load-shedding/load-shedding.js';
export { createLogger, type LoggerOptions, type LogLevel } from './logging/create-logger.js';
export {
  type FileDestination,
  type FileDestinationOptions,
  fileDestination,
} from './logging/file-destination.js';
export { DEFAULT_REDACT_FIELDS, REDACTED } from './logging/redact.js';
export {
  createMetrics,
  type Metrics,
  type MetricsOptions,
} from './metrics/create-metrics.js';
export type { MetricsAuthorization } from './metrics/metrics-endpoint.js';
export { type RequestIdOptions, requestId, SAFE_REQUEST_ID } from './request-id/request-id.js';
export {
  parseTraceparent,
  type TraceContext,
  traceContextKey,
} from './request-id/trace-context.js';
export {
  SECURITY_EVENT_LEVELS,
  type SecurityEventLog,
  type SecurityEventLogOptions,
  securityEventLog,
} from './security-events/security-event-log.js';
export {
  type DrainableServer,
  EXIT_FORCED,
  EXIT_OK,
  type GracefulShutdown,
  type GracefulShutdownOptions,
  gracefulShutdown,
} from './shutdown/graceful-shutdown.js';
export type { ShutdownHook } from './shutdown/run-hooks.js';
