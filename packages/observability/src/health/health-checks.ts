import { type Clock, ConfigurationError, type Reply, systemClock } from '@org/core';
import { nonNegativeInteger, positiveInteger } from '@org/core/adapter';
import { optionalLogger, type StructuredLogger } from '../internal/options.js';
import { type CheckResult, runCheck } from './run-check.js';

/** draft-inadarei-api-health-check section 3.1: the health of a service or one of its checks. */
export type HealthStatus = 'pass' | 'warn' | 'fail';

/**
 * A readiness check: resolves (or returns `'pass'`/`'warn'`) when the dependency is
 * usable, throws or rejects when it is not. Stop work when `signal` aborts (timeout).
 * Error messages go to the logger, never to the response.
 */
export type HealthCheck = (signal: AbortSignal) => unknown;

/** A check with its own settings. */
export interface HealthCheckDefinition {
  /** The check itself. */
  check: HealthCheck;
  /** Milliseconds before the check counts as failed. @default the `timeoutMs` option */
  timeoutMs?: number;
  /** When false, a failure makes readiness `warn` (still 200) instead of `fail` (503). @default true */
  critical?: boolean;
}

/** Options of {@link createHealthChecks}. */
export interface HealthChecksOptions {
  /** Readiness checks by name (`[A-Za-z0-9_.-]`, no colon). @default {} (always ready) */
  checks?: Readonly<Record<string, HealthCheck | HealthCheckDefinition>>;
  /** Milliseconds each check may take before it counts as failed. @default 1000 */
  timeoutMs?: number;
  /** Milliseconds a result is reused, so frequent probes cannot stampede a dependency. @default 1000 */
  cacheMs?: number;
  /** Where failures are written, with the error (the body never has it). @default failures are not logged */
  logger?: Pick<StructuredLogger, 'warn'>;
  /** The time source of the cache and the `time` fields. @default systemClock */
  clock?: Clock;
}

/** The outcome of one readiness run. */
export interface HealthReport {
  /**
   * The overall status: `fail` when a critical check failed, `warn` when any other check
   * did not pass, else `pass`. Readiness answers 503 for `fail`, 200 otherwise.
   */
  readonly status: HealthStatus;
  /** Each check's result, by the name it was given in `checks`. */
  readonly checks: Readonly<Record<string, CheckResult>>;
}

/** Liveness and readiness handlers, and the switch graceful shutdown uses. */
export interface HealthChecks {
  /** Liveness: 200 `{"status":"pass"}` while the process serves. Checks nothing. */
  readonly liveness: () => Reply;
  /** Readiness: 200 (pass, warn) or 503 (fail, draining) in `application/health+json`. */
  readonly readiness: () => Promise<Reply>;
  /** Runs the checks, or reuses a result younger than `cacheMs` or still being computed. */
  check(): Promise<HealthReport>;
  /** Makes readiness answer 503 from now on (graceful shutdown calls it). */
  startDraining(): void;
  /** Whether {@link HealthChecks.startDraining} was called. */
  readonly draining: boolean;
}

/** The media type of health responses (draft-inadarei-api-health-check section 7). */
export const HEALTH_CONTENT_TYPE = 'application/health+json';
const HEADERS = Object.freeze({ 'content-type': HEALTH_CONTENT_TYPE, 'cache-control': 'no-store' });
const CHECK_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

interface PreparedCheck {
  readonly name: string;
  readonly check: HealthCheck;
  readonly timeoutMs: number;
  readonly critical: boolean;
}

function prepare(
  checks: HealthChecksOptions['checks'],
  defaultTimeout: number,
): readonly PreparedCheck[] {
  return Object.entries(checks ?? {}).map(([name, entry]) => {
    if (!CHECK_NAME.test(name)) {
      throw new ConfigurationError(
        `createHealthChecks: check name ${JSON.stringify(name)} must match [A-Za-z0-9_.-]{1,64} (a colon separates the name from the measurement in the body).`,
      );
    }
    const definition = typeof entry === 'function' ? { check: entry } : entry;
    if (typeof definition?.check !== 'function') {
      throw new ConfigurationError(
        `createHealthChecks: checks.${name} must be a function or { check: function }.`,
      );
    }
    const timeoutMs = positiveInteger(
      'createHealthChecks',
      `checks.${name}.timeoutMs`,
      definition.timeoutMs,
      defaultTimeout,
    );
    return { name, check: definition.check, timeoutMs, critical: definition.critical !== false };
  });
}

/**
 * Creates liveness and readiness handlers. Checks run concurrently, each bounded by
 * its timeout; one run serves every probe for `cacheMs` (and concurrent probes share
 * a run in progress). Bodies follow draft-inadarei-api-health-check and never carry
 * error text, hostnames or ports.
 *
 * @example
 * ```ts
 * const health = createHealthChecks({ checks: { redis: redisCheck(redis), db: sqliteCheck(db) }, logger });
 * app.get('/healthz', {}, health.liveness);
 * app.get('/readyz', {}, health.readiness);
 * ```
 */
export function createHealthChecks(options: HealthChecksOptions = {}): HealthChecks {
  const where = 'createHealthChecks';
  const timeoutMs = positiveInteger(where, 'timeoutMs', options.timeoutMs, 1000);
  const cacheMs = nonNegativeInteger(where, 'cacheMs', options.cacheMs, 1000);
  const logger = optionalLogger(where, 'logger', options.logger, ['warn']);
  const clock = options.clock ?? systemClock;
  const checks = prepare(options.checks, timeoutMs);

  // Bodies are objects, not strings, so adapters that pick a content type for string
  // bodies (express's send) keep application/health+json.
  const liveReply: Reply = Object.freeze({
    status: 200,
    headers: HEADERS,
    body: Object.freeze({ status: 'pass' }),
  });
  const drainingReply: Reply = Object.freeze({
    status: 503,
    headers: HEADERS,
    body: Object.freeze({ status: 'fail', notes: Object.freeze(['shutting down']) }),
  });

  let draining = false;
  let cached: { report: HealthReport; at: number } | undefined;
  let running: Promise<HealthReport> | undefined;

  const runAll = async (): Promise<HealthReport> => {
    const results = await Promise.all(checks.map((c) => runCheck(c, clock, logger)));
    const byName: Record<string, CheckResult> = {};
    let status: HealthStatus = 'pass';
    results.forEach((result, i) => {
      const { name, critical } = checks[i] as PreparedCheck;
      byName[name] = result;
      // Section 3.1: fail when a critical dependency fails; warn for degraded ones.
      if (result.status === 'fail' && critical) status = 'fail';
      else if (result.status !== 'pass' && status === 'pass') status = 'warn';
    });
    return { status, checks: byName };
  };

  const check = (): Promise<HealthReport> => {
    if (cached !== undefined && clock.now() - cached.at < cacheMs) {
      return Promise.resolve(cached.report);
    }
    running ??= runAll().then(
      (report) => {
        cached = { report, at: clock.now() };
        running = undefined;
        return report;
      },
      (error: unknown) => {
        running = undefined;
        throw error;
      },
    );
    return running;
  };

  let lastReport: HealthReport | undefined;
  let lastReply: Reply | undefined;
  const toReply = (report: HealthReport): Reply => {
    if (report === lastReport && lastReply !== undefined) return lastReply;
    const body: Record<string, unknown> = { status: report.status };
    const entries = Object.entries(report.checks);
    if (entries.length > 0) {
      const details: Record<string, unknown[]> = {};
      // Section 4: keys are "{componentName}:{measurementName}", values arrays. Only
      // status and timing: the error stays in the log.
      for (const [name, result] of entries) {
        details[`${name}:responseTime`] = [
          {
            status: result.status,
            observedValue: result.durationMs,
            observedUnit: 'ms',
            time: result.time,
          },
        ];
      }
      body.checks = details;
    }
    lastReport = report;
    lastReply = { status: report.status === 'fail' ? 503 : 200, headers: HEADERS, body };
    return lastReply;
  };

  return {
    liveness: () => liveReply,
    readiness: async () => (draining ? drainingReply : toReply(await check())),
    check,
    startDraining(): void {
      draining = true;
    },
    get draining(): boolean {
      return draining;
    },
  };
}
