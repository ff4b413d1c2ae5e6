// The pieces every peer stack uses the popular way: a pino logger writing one line
// per request (authorization and cookies redacted, as any team must), a prom-client
// duration histogram labelled by route template, and an X-Request-Id echo.
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { Histogram, Registry } from 'prom-client';
import { logDestination } from './setup.ts';

export const REDACT = ['req.headers.authorization', 'req.headers.cookie'];
const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

export function peerLogger(file: string): pino.Logger {
  return pino({ redact: REDACT }, logDestination(file));
}

/** Keeps a valid incoming id, else a UUID (what the toolkit's request id does). */
export function requestIdFrom(incoming: unknown): string {
  return typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** `http_request_duration_seconds{method,route,status_code}` in its own registry. */
export function peerHistogram(): Histogram<'method' | 'route' | 'status_code'> {
  return new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests in seconds.',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [new Registry()],
  });
}

/** The verified claims the peer stacks read. */
export interface PeerClaims {
  sub: string;
  roles?: string[];
}

export function hasRole(claims: PeerClaims | undefined, role: string): boolean {
  return Array.isArray(claims?.roles) && claims.roles.includes(role);
}
