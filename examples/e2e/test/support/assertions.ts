import { expect } from 'vitest';
import type { HttpResponse } from './http.ts';

/** What `@org/security`'s securityHeaders() puts on every answer of a JSON API. */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};

/** `X-Request-Id` and the security headers, and nothing that names the stack. */
export function expectStandardHeaders(response: HttpResponse, what = ''): void {
  const where = `${what} ${response.status}`.trim();
  expect(response.headers['x-request-id'], `${where}: X-Request-Id`).toMatch(
    /^[A-Za-z0-9._-]{1,128}$/,
  );
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    expect(response.headers[name], `${where}: ${name}`).toBe(value);
  }
  expect(response.headers['x-powered-by'], `${where}: X-Powered-By`).toBeUndefined();
  expect(response.headers.server, `${where}: Server`).toBeUndefined();
}

/** An RFC 9457 problem with `code` and the request id, and the standard headers. */
export function expectProblem(response: HttpResponse, status: number, code?: string): void {
  expect(response.status, response.text).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.body as Record<string, unknown>;
  expect(body).toMatchObject({ status, type: expect.any(String), title: expect.any(String) });
  expect(body.code).toEqual(code ?? expect.stringMatching(/^ERR_[A-Z_]+$/));
  expect(body.request_id).toBe(response.headers['x-request-id']);
  expect(response.text).not.toMatch(/\bstack\b|at .+\.(?:ts|js):\d+/);
  expectStandardHeaders(response, `problem ${code ?? ''}`);
}

/** The IETF RateLimit headers of the per-IP policy. */
export function expectRateLimitHeaders(response: HttpResponse): void {
  expect(response.headers['ratelimit-policy'], 'RateLimit-Policy').toMatch(/"per-ip";q=\d+;w=60/);
  expect(response.headers.ratelimit, 'RateLimit').toMatch(/"per-ip";r=\d+;t=\d+/);
}

/** `r` of the RateLimit header. */
export function remaining(response: HttpResponse): number {
  const match = /;r=(\d+)/.exec(response.headers.ratelimit ?? '');
  return match === null ? Number.NaN : Number(match[1]);
}

/** `Cache-Control: no-store`, required on responses that carry credentials (RFC 6749 5.1). */
export function expectNoStore(response: HttpResponse): void {
  expect(response.headers['cache-control'], 'Cache-Control').toMatch(/\bno-store\b/);
}

/** The public shape of a user: exactly these members, never a hash. */
export function expectUser(body: unknown, expected: Record<string, unknown> = {}): void {
  expect(Object.keys(body as object).sort()).toEqual(
    ['created_at', 'email', 'id', 'is_active', 'name', 'roles', 'updated_at'].sort(),
  );
  expect(body).toMatchObject({ is_active: true, ...expected });
  expect(JSON.stringify(body)).not.toMatch(/scrypt|password|hash/i);
}
