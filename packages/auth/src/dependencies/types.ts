import type { Context, Dependency } from '@org/core';
import type { ApiKeyRecord } from '../api-keys/types.js';
import type { AccessTokenClaims } from '../tokens/types.js';

/** Who made the request, as the auth dependencies resolved it from a verified token. */
export interface Principal<U> {
  /** The user's id: the token's `sub` unless `getUserId` says otherwise. */
  readonly id: string;
  /** The user, as `loadUser` returned it (the claims when there is no `loadUser`). */
  readonly user: U;
  /** The verified access token's claims. */
  readonly claims: AccessTokenClaims;
  /** Effective roles: those assigned and every role they inherit. */
  readonly roles: ReadonlySet<string>;
  /** Permissions granted by the effective roles. */
  readonly permissions: ReadonlySet<string>;
  /** OAuth2 scopes of the token (RFC 6749 section 3.3): its `scope` and `scp` claims, string or array. */
  readonly scopes: ReadonlySet<string>;
  /**
   * The API key that admitted the request; absent for an access token. Its claims are
   * then stand-ins: `sub` the owner, `jti` the key id, `scope` the key's scopes.
   */
  readonly apiKey?: ApiKeyRecord;
}

declare const grantedRoles: unique symbol;

/**
 * A user proven to hold roles `R`: what {@link Auth.requireRoles} resolves to. The
 * brand exists only in types, so a function can demand proof of a role:
 *
 * @example
 * ```ts
 * function deleteAccount(actor: WithRoles<AppUser, 'admin'>, id: string) { ... }
 * app.delete('/users/:id', { admin: auth.requireRoles('admin') }, (ctx, { admin }) =>
 *   deleteAccount(admin, ctx.request.params.id)); // a plain AppUser would not compile
 * ```
 */
export type WithRoles<U, R extends string> = U & {
  /** The brand: each proven role maps to `true`. It exists only in types; there is nothing to read at run time. */
  readonly [grantedRoles]: { readonly [K in R]: true };
};

/** A dependency that authorizes: it resolves to the user or throws 401, 403 or 404. */
export interface Guard<T> extends Dependency<T> {
  /** Marks guards, which {@link allOf} and {@link anyOf} combine. */
  readonly guard: true;
}

/** The value a guard resolves to. */
export type GuardValue<G> = G extends Dependency<infer T> ? T : never;

/** Finds the owner of the resource a request addresses; null or undefined when there is no such resource. */
export type OwnerLookup<U> = (
  ctx: Context,
  user: U,
) => string | number | null | undefined | Promise<string | number | null | undefined>;

/** Options of {@link Auth.requireOwnership}. */
export interface OwnershipOptions<R extends string> {
  /** Roles that may act on any resource, owner or not (the lookup is skipped for them). @default [] */
  overrideRoles?: readonly R[];
  /**
   * Answer 404 instead of 403 to a non-owner, so the response does not reveal that
   * the resource exists.
   * @default false
   */
  hideExistence?: boolean;
}

/** What {@link createAuth} returns: the dependencies and guard factories of one app. */
export interface Auth<U, R extends string = string, P extends string = string> {
  /** The verified principal; 401 without a valid token (or API key, with `createAuth({ apiKeys })`) or when the user is gone or inactive. */
  readonly principal: Dependency<Principal<U>>;
  /** The principal, or undefined when the request has no token. A bad token is still a 401. */
  readonly optionalPrincipal: Dependency<Principal<U> | undefined>;
  /**
   * The principal of an API key, and only of a key (an access token is not enough):
   * for routes meant for machines. Needs `createAuth({ apiKeys })`; otherwise resolving
   * it is a `ConfigurationError`. Without a key, 401; a revoked, expired or malformed
   * key, 401 `invalid_token`.
   *
   * @example
   * ```ts
   * app.post('/deploy', { caller: auth.apiKey }, (ctx, { caller }) => deploy(caller.apiKey?.name));
   * ```
   */
  readonly apiKey: Dependency<Principal<U>>;
  /** The authenticated user; 401 otherwise. */
  readonly currentUser: Dependency<U>;
  /** The user, or undefined when the request has no token. A bad token is still a 401. */
  readonly optionalUser: Dependency<U | undefined>;
  /** 403 unless the user holds every one of `roles`, directly or by inheritance. */
  requireRoles<const G extends R>(...roles: [G, ...G[]]): Guard<WithRoles<U, G>>;
  /** 403 unless the user's roles grant every one of `permissions`. */
  requirePermissions(...permissions: [P, ...P[]]): Guard<U>;
  /** 403 with `error="insufficient_scope"` unless the token carries every one of `scopes`. */
  requireScopes(...scopes: [string, ...string[]]): Guard<U>;
  /** 403 (or 404 with `hideExistence`) unless the user owns the resource or holds an override role; 404 when it does not exist. */
  requireOwnership(getOwnerId: OwnerLookup<U>, options?: OwnershipOptions<R>): Guard<U>;
}
