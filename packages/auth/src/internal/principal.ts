import type { Principal } from '../dependencies/types.js';
import type { AccessTokenClaims } from '../tokens/types.js';
import type { RoleGraph } from './role-graph.js';

const NO_SCOPES: ReadonlySet<string> = new Set();

/** RFC 6749 3.3: scope tokens are separated by spaces; empty pieces name nothing. */
function addSpaceSeparated(into: Set<string>, value: string): void {
  for (const scope of value.split(' ')) if (scope !== '') into.add(scope);
}

/**
 * The scopes a token grants: `scope`, space-separated (RFC 8693 4.2, RFC 9068 2.2.3),
 * and `scp`, space-separated (Microsoft Entra ID) or an array (Okta) whose entries
 * that are not strings grant nothing.
 */
function scopesOf(claims: AccessTokenClaims): ReadonlySet<string> {
  const { scope, scp } = claims;
  if (scope === undefined && scp === undefined) return NO_SCOPES;
  const scopes = new Set<string>();
  if (typeof scope === 'string') addSpaceSeparated(scopes, scope);
  if (typeof scp === 'string') addSpaceSeparated(scopes, scp);
  else if (Array.isArray(scp)) {
    for (const item of scp) if (typeof item === 'string' && item !== '') scopes.add(item);
  }
  return scopes;
}

/** Where roles and permissions come from: never the request, only the token or the user. */
export interface PrincipalSources<U> {
  readonly graph: RoleGraph;
  readonly getRoles: (user: U, claims: AccessTokenClaims) => Iterable<string> | undefined;
  readonly getPermissions:
    | ((user: U, claims: AccessTokenClaims) => Iterable<string> | undefined)
    | undefined;
}

/** A {@link Principal} whose sets are computed on first read, so a route that checks nothing pays nothing. */
export class LazyPrincipal<U> implements Principal<U> {
  readonly id: string;
  readonly user: U;
  readonly claims: AccessTokenClaims;
  readonly #sources: PrincipalSources<U>;
  #roles: ReadonlySet<string> | undefined;
  #permissions: ReadonlySet<string> | undefined;
  #scopes: ReadonlySet<string> | undefined;

  constructor(id: string, user: U, claims: AccessTokenClaims, sources: PrincipalSources<U>) {
    this.id = id;
    this.user = user;
    this.claims = claims;
    this.#sources = sources;
  }

  get roles(): ReadonlySet<string> {
    this.#roles ??= this.#sources.graph.effectiveRoles(
      this.#sources.getRoles(this.user, this.claims) ?? [],
    );
    return this.#roles;
  }

  get permissions(): ReadonlySet<string> {
    if (this.#permissions === undefined) {
      const custom = this.#sources.getPermissions;
      this.#permissions =
        custom === undefined
          ? this.#sources.graph.permissionsOf(this.roles)
          : new Set(custom(this.user, this.claims) ?? []);
    }
    return this.#permissions;
  }

  get scopes(): ReadonlySet<string> {
    this.#scopes ??= scopesOf(this.claims);
    return this.#scopes;
  }
}

function stringArray(value: unknown): readonly string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
}

/**
 * The default role source: the loaded user's `roles` (string array) or `role`
 * (string), else the token's `roles` claim. The user wins so that a demoted user
 * loses a role at once, not when the access token expires.
 */
export function defaultRoles(user: unknown, claims: AccessTokenClaims): readonly string[] {
  if (typeof user === 'object' && user !== null && user !== claims) {
    const roles = stringArray((user as { roles?: unknown }).roles);
    if (roles !== undefined) return roles;
    const role = (user as { role?: unknown }).role;
    if (typeof role === 'string') return [role];
  }
  return stringArray(claims.roles) ?? [];
}
