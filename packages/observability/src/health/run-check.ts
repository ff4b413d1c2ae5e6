import type { Clock } from '@org/core';
import type { StructuredLogger } from '../internal/options.js';
import type { HealthCheck, HealthStatus } from './health-checks.js';

/** The result of one check, as reported (no error text: that goes to the logger). */
export interface CheckResult {
  /**
   * `fail` when the check threw, rejected, timed out or returned `'fail'`; `warn` when it
   * returned `'warn'`; else `pass`.
   */
  readonly status: HealthStatus;
  /** Milliseconds the check took (or the timeout). */
  readonly durationMs: number;
  /** When the result was taken, ISO 8601. */
  readonly time: string;
}

/** A health check that did not answer within its timeout. */
export class HealthCheckTimeoutError extends Error {
  /** Stable code. */
  static readonly code = 'ERR_HEALTH_CHECK_TIMEOUT';
  /** Stable code. */
  readonly code = HealthCheckTimeoutError.code;
  constructor(name: string, timeoutMs: number) {
    super(`Health check "${name}" did not finish within ${timeoutMs} ms.`);
    this.name = 'HealthCheckTimeoutError';
  }
}

interface RunnableCheck {
  readonly name: string;
  readonly check: HealthCheck;
  readonly timeoutMs: number;
}

/**
 * Runs one check with a deadline. Never rejects: a throw, a rejection or the timeout
 * is a `fail`, logged with the error. On timeout the check's signal aborts so it can
 * release what it holds.
 */
export function runCheck(
  { name, check, timeoutMs }: RunnableCheck,
  clock: Clock,
  logger: Pick<StructuredLogger, 'warn'> | undefined,
): Promise<CheckResult> {
  const started = clock.now();
  const controller = new AbortController();
  return new Promise<CheckResult>((resolve) => {
    let settled = false;
    const settle = (status: HealthStatus, error?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const now = clock.now();
      if (error !== undefined) {
        logger?.warn({ check: name, err: error }, 'health check failed');
      }
      resolve({
        status,
        durationMs: Math.max(0, now - started),
        time: new Date(now).toISOString(),
      });
    };
    const timer = setTimeout(() => {
      const error = new HealthCheckTimeoutError(name, timeoutMs);
      controller.abort(error);
      settle('fail', error);
    }, timeoutMs);
    timer.unref?.();
    try {
      Promise.resolve(check(controller.signal)).then(
        (value) => settle(value === 'warn' || value === 'fail' ? value : 'pass'),
        (error: unknown) => settle('fail', error ?? new Error(`Health check "${name}" rejected.`)),
      );
    } catch (error) {
      settle('fail', error ?? new Error(`Health check "${name}" threw.`));
    }
  });
}
