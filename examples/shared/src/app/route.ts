// What the users API's routes share beyond `defineRoute` (from @org/core): the 429 every
// rate-limited route documents, and input validated only after a guard.
import { type AnyDependency, defineDependency, type SchemaDependency } from '@org/core';

/**
 * The 429 of the per-IP limit, which covers every route but the probes (`/healthz`,
 * `/readyz`, `/metrics`).
 */
export const tooManyRequests = {
  description: 'Too many requests from this client.',
  headers: { 'Retry-After': 'Seconds to wait.' },
} as const;

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
