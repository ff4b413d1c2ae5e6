import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  type AuthOutcomeEvent,
  authOutcomeChannel,
  ConfigurationError,
  type Context,
  createContextKey,
  type Plugin,
  type RateLimitDecisionEvent,
  type Reply,
  type ResponseInfo,
  rateLimitDecisionChannel,
} from '@org/core';
import { positiveInteger } from '@org/core/adapter';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import {
  BoundedValues,
  methodLabel,
  oncePerValue,
  PendingCounts,
  RequestSeries,
} from './bounded-labels.js';
import { createMetricsHandler, type MetricsAuthorization } from './metrics-endpoint.js';

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** The registry metrics are registered in. @default a new Registry (never prom-client's global one) */
  registry?: Registry;
  /** Prepended to every metric name, for example `myapp_`. @default '' */
  prefix?: string;
  /** Upper bounds (seconds) of the duration histogram's buckets. @default [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] */
  buckets?: readonly number[];
  /** Also collect prom-client's default process metrics (CPU, memory, event loop lag, GC). @default false */
  collectDefaultMetrics?: boolean;
  /**
   * Protects the `/metrics` handler: a bearer token (compared in constant time) or a
   * function deciding per request (false answers 403).
   * @default open to every client: restrict it at the network level instead
   */
  protect?: MetricsAuthorization;
  /**
   * Most label combinations (route x method x status) the duration histogram keeps;
   * requests past it count under `route="other"`, so the series stay bounded.
   * @default 2000
   */
  labelCacheSize?: number;
}

/** The metrics of a service: a plugin that measures requests and a `/metrics` handler. */
export interface Metrics {
  /** The registry holding every metric below (add your own to it). */
  readonly registry: Registry;
  /** Measures every request: add it to the toolkit's plugins. */
  readonly plugin: Plugin;
  /** The neutral `/metrics` handler: mount it like any route, on any adapter. */
  readonly handler: (ctx: Context) => Promise<Reply>;
  /** Stops counting auth and rate-limit events (the channels' subscriptions). */
  close(): void;
}

const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const METRIC_PREFIX = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/;
const DECISIONS: ReadonlySet<string> = new Set(['allowed', 'limited', 'store_error']);
const countedKey = createContextKey<true>('metrics.inFlight');

function validBuckets(buckets: readonly number[] | undefined): number[] {
  if (buckets === undefined) return DEFAULT_BUCKETS;
  const ok =
    Array.isArray(buckets) &&
    buckets.length > 0 &&
    buckets.every((b, i) => Number.isFinite(b) && b > 0 && (i === 0 || b > (buckets[i - 1] ?? 0)));
  if (!ok) {
    throw new ConfigurationError(
      'createMetrics: buckets must be a non-empty list of increasing positive numbers of seconds.',
    );
  }
  return [...buckets];
}

/**
 * Creates the request metrics of a service in its own registry:
 * `http_request_duration_seconds{method,route,status_code}` (route is the template or
 * `unmatched`, never the raw path, so unknown URLs cannot add series),
 * `http_requests_in_flight`, `auth_outcomes_total{outcome}` and
 * `rate_limit_decisions_total{policy,decision}`.
 *
 * @example
 * ```ts
 * const metrics = createMetrics({ protect: config.metricsToken }); // Prometheus sends it as a bearer token; 16+ characters
 * const toolkit = createToolkit({ plugins: [requestId(), metrics.plugin] });
 * app.get('/metrics', {}, metrics.handler); // node adapter; kit.endpoint(metrics.handler) elsewhere
 * ```
 */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const prefix = options.prefix ?? '';
  if (typeof prefix !== 'string' || !METRIC_PREFIX.test(prefix)) {
    throw new ConfigurationError(
      `createMetrics: prefix must match [a-zA-Z_:][a-zA-Z0-9_:]*; received ${JSON.stringify(prefix)}.`,
    );
  }
  const registry = options.registry ?? new Registry();
  if (!(registry instanceof Registry)) {
    throw new ConfigurationError('createMetrics: registry must be a prom-client Registry.');
  }
  const buckets = validBuckets(options.buckets);
  const maxSeries = positiveInteger(
    'createMetrics',
    'labelCacheSize',
    options.labelCacheSize,
    2000,
  );
  const handler = createMetricsHandler(registry, options.protect);

  // Per-request counts stay plain numbers until a read (prom-client runs each metric's
  // `collect` before reading it): no label hashing on the request path.
  let requestsInFlight = 0;
  const pendingCounts = new PendingCounts();
  const collect = () => pendingCounts.flush();

  let duration: Histogram<'method' | 'route' | 'status_code'>;
  let authOutcomes: Counter<'outcome'>;
  let rateLimitDecisions: Counter<'policy' | 'decision'>;
  try {
    const registers = [registry];
    duration = new Histogram({
      name: `${prefix}http_request_duration_seconds`,
      help: 'Duration of HTTP requests in seconds, by method, route template and status code.',
      labelNames: ['method', 'route', 'status_code'],
      buckets,
      registers,
    });
    // Registered in `registers`; its value comes from `collect`.
    new Gauge({
      name: `${prefix}http_requests_in_flight`,
      help: 'HTTP requests being handled now.',
      registers,
      collect(this: Gauge) {
        this.set(requestsInFlight);
      },
    });
    authOutcomes = new Counter({
      name: `${prefix}auth_outcomes_total`,
      help: 'Authentication attempts by outcome (success or the failure code).',
      labelNames: ['outcome'],
      registers,
      collect,
    });
    rateLimitDecisions = new Counter({
      name: `${prefix}rate_limit_decisions_total`,
      help: 'Rate-limit decisions by policy and decision (allowed, limited, store_error).',
      labelNames: ['policy', 'decision'],
      registers,
      collect,
    });
  } catch (error) {
    throw new ConfigurationError(
      `createMetrics: the registry already holds these metrics (${(error as Error).message}); pass a new Registry or create the metrics once.`,
    );
  }
  if (options.collectDefaultMetrics === true) collectDefaultMetrics({ register: registry, prefix });

  // Each series' prom-client handle is made once: `labels(...)` builds the label object.
  const durationSeries = new RequestSeries(maxSeries, (method, route, status) =>
    duration.labels(method, route, status),
  );
  const outcomes = new BoundedValues(64);
  const policies = new BoundedValues(64);
  const outcomeCount = oncePerValue((outcome) => pendingCounts.track(authOutcomes.labels(outcome)));
  const decisionCount = oncePerValue((policy) =>
    oncePerValue((decision) => pendingCounts.track(rateLimitDecisions.labels(policy, decision))),
  );
  const onAuth = (message: unknown): void => {
    outcomeCount(outcomes.label((message as AuthOutcomeEvent).outcome)).pending++;
  };
  const onRateLimit = (message: unknown): void => {
    const event = message as RateLimitDecisionEvent;
    const decision = DECISIONS.has(event.decision) ? event.decision : 'other';
    decisionCount(policies.label(event.policy))(decision).pending++;
  };
  subscribe(authOutcomeChannel.name, onAuth);
  subscribe(rateLimitDecisionChannel.name, onRateLimit);

  const plugin: Plugin = {
    name: 'metrics',
    onRequest(ctx: Context): void {
      requestsInFlight++;
      ctx.set(countedKey, true);
    },
    onResponse(ctx: Context, info: ResponseInfo): void {
      // An earlier plugin may have answered before ours ran: only undo what we did.
      if (ctx.get(countedKey) === true) requestsInFlight--;
      const route = ctx.request.route ?? 'unmatched';
      durationSeries
        .get(methodLabel(ctx.request.method), route, info.status)
        .observe(info.durationMs / 1000);
    },
  };

  return Object.freeze({
    registry,
    plugin,
    handler,
    close(): void {
      unsubscribe(authOutcomeChannel.name, onAuth);
      unsubscribe(rateLimitDecisionChannel.name, onRateLimit);
    },
  });
}
