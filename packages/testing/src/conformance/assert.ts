/** The rules several groups share, each throwing a {@link ConformanceError}. */
import type { TestResponse } from '../requests/requester.js';
import { ConformanceError } from './conformance-error.js';

const PROBLEM = /^application\/problem\+json\s*(?:;|$)/i;
// A stack frame or a driver message leaking into a response (RFC 9457 4: no internals).
const LEAKS =
  /\bat [\w$.<>]+ \(.*:\d+:\d+\)|node_modules|ECONNREFUSED|SQLITE_|ReferenceError|TypeError:/;

/** Fails unless `condition` holds. */
export function ensure(
  condition: unknown,
  message: string,
  response?: TestResponse,
): asserts condition {
  if (!condition) throw new ConformanceError(message, response);
}

/** The response has one of `statuses`. */
export function expectStatus(
  response: TestResponse,
  statuses: number | readonly number[],
  what: string,
): void {
  const allowed = typeof statuses === 'number' ? [statuses] : statuses;
  ensure(allowed.includes(response.status), `${what}: expected ${allowed.join(' or ')}`, response);
}

/** An RFC 9457 problem whose `status` matches the HTTP status, with a `code`, leaking nothing. */
export function expectProblem(response: TestResponse, what: string): void {
  ensure(
    PROBLEM.test(response.headers['content-type'] ?? ''),
    `${what}: an error must be application/problem+json (RFC 9457 3)`,
    response,
  );
  const body = response.body as Record<string, unknown> | undefined;
  ensure(
    typeof body === 'object' && body !== null,
    `${what}: the problem body is not a JSON object`,
    response,
  );
  ensure(
    body.status === response.status,
    `${what}: problem "status" must equal the HTTP status`,
    response,
  );
  ensure(typeof body.title === 'string', `${what}: problem "title" is missing`, response);
  ensure(
    typeof body.code === 'string' && body.code !== '',
    `${what}: problem "code" is missing`,
    response,
  );
  ensure(
    !LEAKS.test(response.text),
    `${what}: the problem leaks a stack or an internal error`,
    response,
  );
}

/** RFC 6750 3: a Bearer challenge; `error` as given, or none at all when `error` is undefined. */
export function expectChallenge(
  response: TestResponse,
  error: string | undefined,
  what: string,
): void {
  const challenge = response.headers['www-authenticate'] ?? '';
  ensure(
    /^Bearer\b/i.test(challenge),
    `${what}: a 401 needs "WWW-Authenticate: Bearer ..." (RFC 6750 3)`,
    response,
  );
  if (error === undefined) {
    ensure(
      !/\berror=/.test(challenge),
      `${what}: without a token the challenge carries no error code (RFC 6750 3.1)`,
      response,
    );
  } else {
    ensure(
      challenge.includes(`error="${error}"`),
      `${what}: the challenge must say error="${error}" (RFC 6750 3.1)`,
      response,
    );
  }
}

/** A 401 for a bad token: problem+json and `Bearer ... error="invalid_token"`. */
export function expectInvalidToken(response: TestResponse, what: string): void {
  expectStatus(response, 401, what);
  expectChallenge(response, 'invalid_token', what);
  expectProblem(response, what);
}

/** `Authorization: Bearer <token>`. */
export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}
