import { jwksHandler, type KeySet } from '@org/auth';
import { defineRoute, type Route } from '@org/core';
import type { HealthChecks, Metrics } from '@org/observability';
import { tooManyRequests } from './route.ts';

/** What the operations routes serve. */
export interface OperationsRoutesOptions {
  readonly keySet: KeySet;
  readonly health: HealthChecks;
  readonly metrics: Metrics;
}

/** The public signing keys, the probes and the Prometheus metrics. */
export function operationsRoutes({ keySet, health, metrics }: OperationsRoutesOptions): Route[] {
  const tags = ['operations'];
  return [
    defineRoute({
      method: 'GET',
      path: '/.well-known/jwks.json',
      operationId: 'getJwks',
      summary: 'Public keys that verify access tokens (JWKS)',
      tags,
      responses: {
        200: { description: 'A JWK Set (RFC 7517).', mediaType: 'application/jwk-set+json' },
        304: 'Not modified (If-None-Match).',
        429: tooManyRequests,
      },
      handler: jwksHandler(keySet),
    }),
    defineRoute({
      method: 'GET',
      path: '/healthz',
      operationId: 'getLiveness',
      summary: 'Liveness: 200 while the process serves',
      tags,
      responses: { 200: { description: 'Alive.', mediaType: 'application/health+json' } },
      handler: health.liveness,
    }),
    defineRoute({
      method: 'GET',
      path: '/readyz',
      operationId: 'getReadiness',
      summary: 'Readiness: the database and Redis answer',
      tags,
      responses: {
        200: { description: 'Ready.', mediaType: 'application/health+json' },
        503: {
          description: 'A dependency failed or timed out, or the process is draining.',
          mediaType: 'application/health+json',
        },
      },
      handler: health.readiness,
    }),
    defineRoute({
      method: 'GET',
      path: '/metrics',
      operationId: 'getMetrics',
      summary: 'Prometheus metrics',
      tags,
      responses: { 200: { description: 'Prometheus text format.', mediaType: 'text/plain' } },
      handler: metrics.handler,
    }),
  ];
}
