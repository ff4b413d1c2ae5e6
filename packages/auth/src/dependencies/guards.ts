import {
  ConfigurationError,
  type Dependency,
  defineDependency,
  ForbiddenError,
  NotFoundError,
} from '@org/core';
import { InsufficientScopeError } from '../errors/insufficient-scope-error.js';
import type { RoleGraph } from '../internal/role-graph.js';
import type { Guard, OwnerLookup, OwnershipOptions, Principal, WithRoles } from './types.js';

/**
 * The guard factories behind {@link Auth}. Each checks its arguments once, when
 * the guard is created, and injects the principal, so a missing or bad token is a
 * 401 before any 403 is considered.
 */

/** What the guards share, fixed by `createAuth`. */
export interface GuardContext<U> {
  readonly principal: Dependency<Principal<U>>;
  readonly graph: RoleGraph;
  readonly realm: string;
  /** Whether `roles` was given, so unknown role names are configuration errors. */
  readonly rolesDeclared: boolean;
}

function asGuard<T>(dependency: Dependency<T>): Guard<T> {
  return Object.freeze({ ...dependency, guard: true as const });
}

function names(option: string, values: readonly unknown[]): readonly string[] {
  if (values.length === 0) throw new ConfigurationError(`${option}() needs at least one name.`);
  for (const value of values) {
    if (typeof value !== 'string' || value === '') {
      throw new ConfigurationError(
        `${option}() takes non-empty strings; received ${JSON.stringify(value)}.`,
      );
    }
  }
  return Object.freeze([...new Set(values as string[])]);
}

function checkKnownRoles(
  context: GuardContext<unknown>,
  option: string,
  roles: readonly string[],
): void {
  if (!context.rolesDeclared) return;
  for (const role of roles) {
    if (!context.graph.known.has(role)) {
      throw new ConfigurationError(
        `${option}: role "${role}" is not in the roles given to createAuth.`,
      );
    }
  }
}

type OwnerId = string | number | null | undefined;

const forbidden = (): ForbiddenError =>
  new ForbiddenError({ detail: 'You are not allowed to do this.' });

export function requireRoles<U, R extends string>(
  context: GuardContext<U>,
  roles: readonly R[],
): Guard<WithRoles<U, R>> {
  const required = names('requireRoles', roles);
  checkKnownRoles(context as GuardContext<unknown>, 'requireRoles', required);
  return asGuard(
    defineDependency({
      name: `requireRoles(${required.join(', ')})`,
      inject: { principal: context.principal },
      resolve: (_ctx, { principal }) => {
        const held = principal.roles;
        for (const role of required) if (!held.has(role)) throw forbidden();
        return principal.user as WithRoles<U, R>;
      },
    }),
  );
}

export function requirePermissions<U>(
  context: GuardContext<U>,
  permissions: readonly string[],
): Guard<U> {
  const required = names('requirePermissions', permissions);
  return asGuard(
    defineDependency({
      name: `requirePermissions(${required.join(', ')})`,
      inject: { principal: context.principal },
      resolve: (_ctx, { principal }) => {
        const held = principal.permissions;
        for (const permission of required) if (!held.has(permission)) throw forbidden();
        return principal.user;
      },
    }),
  );
}

export function requireScopes<U>(context: GuardContext<U>, scopes: readonly string[]): Guard<U> {
  const required = names('requireScopes', scopes);
  for (const scope of required) {
    // RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
    if (!/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(scope)) {
      throw new ConfigurationError(`requireScopes: "${scope}" is not a valid OAuth2 scope token.`);
    }
  }
  return asGuard(
    defineDependency({
      name: `requireScopes(${required.join(' ')})`,
      inject: { principal: context.principal },
      resolve: (_ctx, { principal }) => {
        const held = principal.scopes;
        for (const scope of required) {
          if (!held.has(scope))
            throw new InsufficientScopeError({ scopes: required, realm: context.realm });
        }
        return principal.user;
      },
    }),
  );
}

export function requireOwnership<U, R extends string>(
  context: GuardContext<U>,
  getOwnerId: OwnerLookup<U>,
  options: OwnershipOptions<R> = {},
): Guard<U> {
  if (typeof getOwnerId !== 'function') {
    throw new ConfigurationError(
      'requireOwnership(getOwnerId) needs a function that finds the owner id.',
    );
  }
  const overrideRoles =
    options.overrideRoles === undefined ? [] : names('overrideRoles', options.overrideRoles);
  checkKnownRoles(
    context as GuardContext<unknown>,
    'requireOwnership overrideRoles',
    overrideRoles,
  );
  const hideExistence = options.hideExistence ?? false;
  // One detail for a missing and a hidden resource, so the two cannot be told apart.
  const notFound = () => new NotFoundError({ detail: 'The resource does not exist.' });
  const decide = (principal: Principal<U>, owner: OwnerId): U => {
    if (owner === undefined || owner === null) throw notFound();
    if (String(owner) === principal.id) return principal.user;
    throw hideExistence ? notFound() : forbidden();
  };
  return asGuard(
    defineDependency({
      name: 'requireOwnership',
      inject: { principal: context.principal },
      resolve: (ctx, { principal }) => {
        for (const role of overrideRoles) if (principal.roles.has(role)) return principal.user;
        const owner = getOwnerId(ctx, principal.user);
        return typeof (owner as PromiseLike<unknown> | null)?.then === 'function'
          ? Promise.resolve(owner).then((o) => decide(principal, o))
          : decide(principal, owner as OwnerId);
      },
    }),
  );
}
