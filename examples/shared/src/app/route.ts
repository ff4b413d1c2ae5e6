// What the users API's routes share beyond `defineRoute` (from @org/core): the 429 every
// rate-limited route documents, the bearer security and its 401, and input validated
// only after a guard.
import { type AnyDependency, defineDependency, type SchemaDependency } from '@org/core';

/**
 * The 429 of the per-IP limit, which covers every route but the probes (`/healthz`,
 * `/readyz`, `/metrics`).
 */
export const tooManyRequests = {
  description: 'Too many requests from this client.',
  headers: { 'Retry-After': 'Seconds to wait.' },
} as const;

/** The `security` of a route that needs a bearer token (an access token or an API key). */
export const bearer = [{ bearer: [] }] as const;

/** The 401 of a bearer-protected route. */
export const invalidToken = {
  description: 'No token, or a bad one.',
  headers: { 'WWW-Authenticate': 'Bearer realm="api", error="invalid_token"' },
};

/**
 * Validates request input only once `guard` has passed, so a caller without a valid
 * token gets 401 (and a non-admin 403) before any 422 about the input: sibling
 * dependencies of a route start together, and validation would otherwise win the race.
 * It keeps the input's location and schema, so `/openapi.json` still documents it.
 */
export function afterGuard<T>(
  guard: AnyDependency,
  input: SchemaDependency<T>,
): SchemaDependency<T> {
  const dependency = defineDependency({
    name: input.name,
    inject: { guard },
    resolve: (ctx) => ctx.resolve(input),
  });
  return Object.freeze({ ...dependency, location: input.location, schema: input.schema });
}
