import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import {
  ConfigurationError,
  type Context,
  type Plugin,
  PROBLEM_CONTENT_TYPE,
  type Reply,
  ServiceUnavailableError,
  toProblem,
} from '@org/core';
import { positiveInteger } from '@org/core/adapter';
import { Counter, Registry } from 'prom-client';
import type { HealthCheck } from '../health/health-checks.js';

/** Which measure is over its threshold. */
export type OverloadReason = 'event_loop_delay' | 'event_loop_utilization' | 'heap' | 'rss';

/** Options of {@link loadShedding}. Each threshold can be turned off with `false`. */
export interface LoadSheddingOptions {
  /**
   * Shed while the event loop's delay, the 99th percentile over the last sample interval
   * in milliseconds, is above this: requests then wait that long before any code runs.
   * @default 1000
   */
  maxEventLoopDelayMs?: number | false;
  /**
   * Shed while the event loop was busy more than this share (0 to 1) of the last sample
   * interval. Off by default: a process at full use may still answer in time, and
   * `maxEventLoopDelayMs` says when it no longer does. Turn it on (0.98) to shed earlier.
   * @default false
   */
  maxEventLoopUtilization?: number | false;
  /**
   * Shed while the V8 heap in use is above this share (0 to 1) of its limit
   * (`--max-old-space-size`), before the collector starts thrashing.
   * @default 0.9
   */
  maxHeapUsedRatio?: number | false;
  /**
   * Shed while the resident set is above this many bytes. Set it below a container's
   * memory limit.
   * @default false (not checked: the process cannot know the container's limit)
   */
  maxRssBytes?: number | false;
  /** Milliseconds between samples, taken on a timer off the request path. @default 1000 */
  sampleIntervalMs?: number;
  /** Seconds sent in `Retry-After` with each 503. @default 10 */
  retryAfterSeconds?: number;
  /**
   * Paths (exact, without query) never shed: probes and scrapes must answer precisely when
   * the service is overloaded.
   * @default ['/healthz', '/livez', '/readyz', '/metrics']
   */
  skip?: readonly string[];
  /**
   * A prom-client registry (`metrics.registry` of `createMetrics`) to count shed requests
   * in: `http_requests_shed_total{reason}`.
   * @default none
   */
  registry?: Registry;
  /** Prepended to the metric's name. @default '' */
  prefix?: string;
}

/** A running load shedder: see {@link loadShedding}. */
export interface LoadShedder {
  /** Answers 503 while overloaded, before any dependency runs: put it first in the toolkit's plugins. */
  readonly plugin: Plugin;
  /**
   * A readiness check (`createHealthChecks({ checks: { load: shedder.check } })`) that
   * fails while requests are shed, naming the measure, so a load balancer can send
   * traffic elsewhere.
   */
  readonly check: HealthCheck;
  /** Why requests are shed right now, or undefined when they are not. */
  readonly overloaded: OverloadReason | undefined;
  /** Samples the measures now (the timer does it every interval) and returns the new state. */
  sample(): OverloadReason | undefined;
  /** Stops sampling; requests are no longer shed. */
  close(): void;
}

/** The delay histogram's resolution: finer costs more timer wake-ups. */
const DELAY_RESOLUTION_MS = 10;
/** The shortest window whose event-loop utilization is judged. */
const MIN_UTILIZATION_WINDOW_MS = 50;
const DEFAULT_SKIP = ['/healthz', '/livez', '/readyz', '/metrics'];

function threshold(
  option: string,
  value: number | false | undefined,
  fallback: number | false,
  max: number,
): number | false {
  if (value === undefined) return fallback;
  if (value === false) return false;
  if (typeof value !== 'number' || !(value > 0) || value > max) {
    throw new ConfigurationError(
      `loadShedding: ${option} must be a number above 0 and at most ${max}, or false to turn the check off; received ${String(value)}.`,
    );
  }
  return value;
}

/**
 * Sheds load before it sinks the process: a timer samples the event-loop delay, the
 * event-loop utilization, the heap and the RSS every `sampleIntervalMs` (never on the
 * request path), and while one is over its threshold every request but the probes is
 * answered at once with a 503 `ERR_OVERLOADED` problem and `Retry-After`, before routing
 * and before any dependency runs. The 503 is an answer, not an error: it reaches no
 * `onError` hook, so an overload does not also flood the error log. Written against the
 * toolkit's plugin API, so it works on every adapter.
 *
 * @example
 * ```ts
 * const shedder = loadShedding({ registry: metrics.registry, maxRssBytes: 900 * 2 ** 20 });
 * const health = createHealthChecks({ checks: { load: { check: shedder.check, critical: false } } });
 * const toolkit = createToolkit({ plugins: [shedder.plugin, requestId(), metrics.plugin] });
 * ```
 */
export function loadShedding(options: LoadSheddingOptions = {}): LoadShedder {
  const maxDelayMs = threshold(
    'maxEventLoopDelayMs',
    options.maxEventLoopDelayMs,
    1000,
    Number.MAX_SAFE_INTEGER,
  );
  const maxUtilization = threshold(
    'maxEventLoopUtilization',
    options.maxEventLoopUtilization,
    false,
    1,
  );
  const maxHeapRatio = threshold('maxHeapUsedRatio', options.maxHeapUsedRatio, 0.9, 1);
  const maxRss = threshold('maxRssBytes', options.maxRssBytes, false, Number.MAX_SAFE_INTEGER);
  const intervalMs = positiveInteger(
    'loadShedding',
    'sampleIntervalMs',
    options.sampleIntervalMs,
    1000,
  );
  const retryAfter = positiveInteger(
    'loadShedding',
    'retryAfterSeconds',
    options.retryAfterSeconds,
    10,
  );
  const skip = options.skip ?? DEFAULT_SKIP;
  if (!Array.isArray(skip) || skip.some((path) => typeof path !== 'string' || path[0] !== '/')) {
    throw new ConfigurationError("loadShedding: skip must list paths starting with '/'.");
  }
  const skipped: ReadonlySet<string> = new Set(skip);
  if (options.registry !== undefined && !(options.registry instanceof Registry)) {
    throw new ConfigurationError('loadShedding: registry must be a prom-client Registry.');
  }
  let shed: Counter<'reason'> | undefined;
  if (options.registry !== undefined) {
    try {
      shed = new Counter({
        name: `${options.prefix ?? ''}http_requests_shed_total`,
        help: 'Requests answered 503 by the load shedder, by the measure over its threshold.',
        labelNames: ['reason'],
        registers: [options.registry],
      });
    } catch (error) {
      throw new ConfigurationError(
        `loadShedding: the registry cannot take the shed counter (${(error as Error).message}); give each load shedder its own prefix or registry.`,
      );
    }
  }
  // One problem for every shed request: only the request id differs between answers.
  const overload = toProblem(
    new ServiceUnavailableError({
      code: 'ERR_OVERLOADED',
      detail: 'The server is overloaded; retry later.',
      retryAfter,
    }),
  );
  const headers = { ...overload.headers, 'content-type': PROBLEM_CONTENT_TYPE };

  const delay =
    maxDelayMs === false ? undefined : monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });
  delay?.enable();
  let utilization = performance.eventLoopUtilization();
  let overloaded: OverloadReason | undefined;

  const measure = (): OverloadReason | undefined => {
    let reason: OverloadReason | undefined;
    if (delay !== undefined && maxDelayMs !== false) {
      // Nanoseconds; the histogram restarts for the next interval.
      if (delay.count > 0 && delay.percentile(99) / 1e6 > maxDelayMs) reason = 'event_loop_delay';
      delay.reset();
    }
    if (maxUtilization !== false) {
      const now = performance.eventLoopUtilization();
      const window = performance.eventLoopUtilization(now, utilization);
      // A window of a few milliseconds (a sample() right after another) says nothing.
      if (window.idle + window.active >= MIN_UTILIZATION_WINDOW_MS) {
        utilization = now;
        if (reason === undefined && window.utilization > maxUtilization)
          reason = 'event_loop_utilization';
      }
    }
    if (reason !== undefined) return reason;
    if (maxHeapRatio !== false) {
      const heap = getHeapStatistics();
      if (heap.used_heap_size / heap.heap_size_limit > maxHeapRatio) return 'heap';
    }
    if (maxRss !== false && process.memoryUsage.rss() > maxRss) return 'rss';
    return undefined;
  };

  const sample = (): OverloadReason | undefined => {
    overloaded = measure();
    return overloaded;
  };
  const timer = setInterval(sample, intervalMs);
  timer.unref();

  const plugin: Plugin = {
    name: 'load-shedding',
    onRequest(ctx: Context): Reply | undefined {
      if (overloaded === undefined || skipped.has(ctx.request.path)) return undefined;
      shed?.labels(overloaded).inc();
      const body =
        ctx.requestId === undefined
          ? overload.body
          : { ...overload.body, request_id: ctx.requestId };
      return { status: 503, headers, body };
    },
  };

  return {
    plugin,
    check() {
      if (overloaded !== undefined) throw new Error(`overloaded: ${overloaded}`);
    },
    get overloaded() {
      return overloaded;
    },
    sample,
    close() {
      clearInterval(timer);
      delay?.disable();
      overloaded = undefined;
    },
  };
}
