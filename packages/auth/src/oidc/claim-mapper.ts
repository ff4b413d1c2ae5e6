import { invalidToken } from '../internal/verify-jwt.js';
import type { AccessTokenClaims } from '../tokens/types.js';

/**
 * What a {@link ClaimMapper} makes of the claims of a verified token: the subject,
 * roles and scopes of the toolkit's principal.
 */
export interface MappedClaims {
  /** The principal's id (`principal.id` and the `userId` given to `loadUser`). */
  readonly subject: string;
  /** Roles the token grants, before `createAuth`'s role hierarchy is applied. @default [] */
  readonly roles?: Iterable<string> | undefined;
  /** OAuth2 scopes the token grants (RFC 6749 section 3.3). @default [] */
  readonly scopes?: Iterable<string> | undefined;
}

/**
 * Turns the claims of a verified token from an identity provider into the
 * principal's subject, roles and scopes. Throw a `TokenError` to refuse a token
 * (a 401); any other error is a bug and answers 500.
 *
 * @example
 * ```ts
 * const mapper: ClaimMapper = (claims) => ({
 *   subject: claims.sub,
 *   roles: Array.isArray(claims.groups) ? claims.groups : [],
 *   scopes: typeof claims.scope === 'string' ? claims.scope.split(' ') : [],
 * });
 * ```
 */
export type ClaimMapper = (claims: AccessTokenClaims) => MappedClaims;

function addStrings(into: Set<string>, values: Iterable<string> | undefined): void {
  if (values === undefined) return;
  for (const value of values) {
    // RFC 6749 3.3: scope tokens are space-separated, so a value with spaces holds several.
    if (typeof value === 'string') for (const part of value.split(' ')) if (part) into.add(part);
  }
}

/**
 * The claims `createAuth` reads, rewritten from a mapper's answer: `sub` is the
 * subject, `roles` the roles and `scope` the scopes, space-separated. `scp` is
 * removed (the mapper has read it) so that the principal's scopes are exactly the
 * mapped ones; every other claim is kept.
 */
export function applyClaimMapper(
  mapper: ClaimMapper,
  claims: AccessTokenClaims,
): AccessTokenClaims {
  const mapped = mapper(claims);
  if (typeof mapped?.subject !== 'string' || mapped.subject === '') {
    throw invalidToken('the claim mapper found no subject');
  }
  const roles = new Set<string>();
  addStrings(roles, mapped.roles);
  const scopes = new Set<string>();
  addStrings(scopes, mapped.scopes);
  const { scp: _scp, scope: _scope, roles: _roles, ...rest } = claims;
  const result: AccessTokenClaims = {
    ...rest,
    sub: mapped.subject,
    roles: Object.freeze([...roles]),
    ...(scopes.size === 0 ? {} : { scope: [...scopes].join(' ') }),
  };
  return Object.freeze(result);
}
