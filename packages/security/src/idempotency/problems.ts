// The answers of draft-ietf-httpapi-idempotency-key-header section 2.7, as RFC 9457
// problems. Each carries a stable code and, when the app documents its idempotency
// policy, a `Link: <doc>; rel="describedby"` to it, as section 2.7 asks.
import { BadRequestError, ConflictError, HttpError, ServiceUnavailableError } from '@org/core';
import type { KeyProblem } from './idempotency-key.js';

/** The `Link` header pointing at the app's idempotency documentation, or none. */
export type DocumentationLink = Readonly<Record<string, string>>;

/** The `Link` header of a problem for `url`, computed once. */
export function documentationLink(url: string | undefined): DocumentationLink {
  return url === undefined ? {} : { link: `<${url}>; rel="describedby"` };
}

const KEY_DETAILS: Readonly<Record<KeyProblem, string>> = {
  repeated: 'Send exactly one Idempotency-Key header.',
  'not-a-string':
    'The Idempotency-Key header must be a quoted string of printable ASCII, for example "8e03978e-40d5-43e8-bc93-6894a57f9324".',
  empty: 'The Idempotency-Key header must not be an empty string.',
  'too-long': 'The Idempotency-Key header is too long.',
};

/** 400: a key that is not one field line of one sf-string within the length bound. */
export function invalidKey(problem: KeyProblem, link: DocumentationLink): HttpError {
  return new BadRequestError({
    code: 'ERR_IDEMPOTENCY_KEY_INVALID',
    detail: KEY_DETAILS[problem],
    headers: link,
  });
}

/** 400: the route requires a key and the request has none (section 2.7). */
export function missingKey(link: DocumentationLink): HttpError {
  return new BadRequestError({
    code: 'ERR_IDEMPOTENCY_KEY_MISSING',
    detail: 'This operation requires an Idempotency-Key header.',
    headers: link,
  });
}

/** 409: the first request with this key is still running (section 2.6, concurrent request). */
export function keyInUse(link: DocumentationLink): HttpError {
  return new ConflictError({
    code: 'ERR_IDEMPOTENCY_KEY_IN_USE',
    detail: 'A request with this Idempotency-Key is still being processed; retry later.',
    headers: { ...link, 'retry-after': '1' },
  });
}

/** 422: the key was used before with another request (section 2.2). */
export function keyReused(link: DocumentationLink): HttpError {
  return new HttpError(422, {
    code: 'ERR_IDEMPOTENCY_KEY_REUSED',
    detail: 'This Idempotency-Key was used with a different request; use a new key.',
    headers: link,
  });
}

/** 409: the first request completed, but its response was too large to keep for a replay. */
export function responseNotStored(link: DocumentationLink): HttpError {
  return new ConflictError({
    code: 'ERR_IDEMPOTENCY_RESPONSE_NOT_STORED',
    detail:
      'The request with this Idempotency-Key completed, but its response was too large to replay. Use a new key to repeat it.',
    headers: link,
  });
}

/** 503: the store did not answer, so the request cannot be run safely. */
export function storeUnavailable(cause: unknown): HttpError {
  return new ServiceUnavailableError({
    code: 'ERR_IDEMPOTENCY_STORE',
    detail: 'Idempotency keys cannot be checked right now; retry later.',
    retryAfter: 1,
    cause,
  });
}
