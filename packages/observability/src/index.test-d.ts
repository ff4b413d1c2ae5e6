import { createServer } from 'node:http';
import type { Context, Plugin, Reply } from '@org/core';
import { createToolkit } from '@org/core';
import { createNodeAdapter } from '@org/core/node';
import {
  accessLog,
  createHealthChecks,
  createLogger,
  createMetrics,
  type GracefulShutdown,
  gracefulShutdown,
  type HealthReport,
  requestId,
  type TraceContext,
  traceContextKey,
} from '@org/observability';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { describe, expectTypeOf, it } from 'vitest';

describe('public types', () => {
  it('builds a logger and plugins that a toolkit accepts', () => {
    const logger = createLogger({ level: 'debug' });
    expectTypeOf(logger).toEqualTypeOf<Logger>();
    expectTypeOf(requestId()).toEqualTypeOf<Plugin>();
    expectTypeOf(accessLog({ logger })).toEqualTypeOf<Plugin>();
    // @ts-expect-error the access log needs a logger
    accessLog({});
    // @ts-expect-error levels are pino's names
    createLogger({ level: 'verbose' });
    createToolkit({ plugins: [requestId(), accessLog({ logger }), createMetrics().plugin] });
  });

  it('exposes neutral handlers that node routes take as they are', () => {
    const metrics = createMetrics({ protect: (ctx: Context) => ctx.request.ip === '127.0.0.1' });
    const health = createHealthChecks({
      checks: { db: () => {}, cache: { check: async () => 'warn', critical: false } },
    });
    expectTypeOf(metrics.registry).toEqualTypeOf<Registry>();
    expectTypeOf(metrics.handler).returns.toEqualTypeOf<Promise<Reply>>();
    expectTypeOf(health.readiness).returns.toEqualTypeOf<Promise<Reply>>();
    expectTypeOf(health.check).returns.toEqualTypeOf<Promise<HealthReport>>();
    createNodeAdapter(createToolkit())
      .get('/metrics', {}, metrics.handler)
      .get('/healthz', {}, health.liveness)
      .get('/readyz', {}, health.readiness);
  });

  it('drains any node:http server and reads the trace context by key', () => {
    const server = createServer();
    expectTypeOf(
      gracefulShutdown({ server, hooks: [async () => {}] }),
    ).toEqualTypeOf<GracefulShutdown>();
    // @ts-expect-error a server is required
    gracefulShutdown({ delayMs: 1 });
    const ctx = {} as Context;
    expectTypeOf(ctx.get(traceContextKey)).toEqualTypeOf<TraceContext | undefined>();
  });
});
