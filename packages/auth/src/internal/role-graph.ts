import { ConfigurationError } from '@org/core';

/**
 * Role inheritance and role permissions, resolved once at start-up so a request
 * only looks up precomputed sets.
 */
export class RoleGraph {
  /** Each role's effective roles: itself and every role it inherits, transitively. */
  readonly #closure = new Map<string, ReadonlySet<string>>();
  /** Each role's effective permissions: those of every role in its closure. */
  readonly #permissions = new Map<string, ReadonlySet<string>>();
  /** A closure set (as {@link RoleGraph.effectiveRoles} returns it for one role) to its permissions. */
  readonly #permissionsByClosure = new WeakMap<ReadonlySet<string>, ReadonlySet<string>>();
  /** Every role name the app declared or used in the hierarchy. */
  readonly known: ReadonlySet<string>;

  constructor(
    hierarchy: Readonly<Record<string, readonly string[] | undefined>>,
    rolePermissions: Readonly<Record<string, readonly string[] | undefined>>,
    declared: readonly string[] | undefined,
  ) {
    const known = new Set(declared ?? []);
    for (const [role, inherits] of Object.entries(hierarchy)) {
      known.add(role);
      for (const inherited of inherits ?? []) known.add(inherited);
    }
    for (const role of Object.keys(rolePermissions)) known.add(role);
    if (declared !== undefined) {
      for (const role of known) {
        if (!declared.includes(role)) {
          throw new ConfigurationError(
            `Role "${role}" appears in roleHierarchy or rolePermissions but not in roles; add it to roles.`,
          );
        }
      }
    }
    this.known = known;
    const visit = (role: string, path: string[]): ReadonlySet<string> => {
      const done = this.#closure.get(role);
      if (done !== undefined) return done;
      if (path.includes(role)) {
        throw new ConfigurationError(
          `roleHierarchy has a cycle: ${[...path.slice(path.indexOf(role)), role].join(' -> ')}. A role must not inherit itself.`,
        );
      }
      const set = new Set([role]);
      for (const inherited of hierarchy[role] ?? []) {
        for (const r of visit(inherited, [...path, role])) set.add(r);
      }
      this.#closure.set(role, set);
      return set;
    };
    for (const role of known) visit(role, []);
    for (const [role, roles] of this.#closure) {
      const permissions = new Set<string>();
      for (const r of roles) for (const p of rolePermissions[r] ?? []) permissions.add(p);
      this.#permissions.set(role, permissions);
      this.#permissionsByClosure.set(roles, permissions);
    }
  }

  /** The effective roles of a user holding `assigned`. One role: no allocation. */
  effectiveRoles(assigned: Iterable<string>): ReadonlySet<string> {
    let single: string | undefined;
    let result: Set<string> | undefined;
    for (const role of assigned) {
      if (typeof role !== 'string') continue;
      if (single === undefined && result === undefined) {
        single = role;
        continue;
      }
      result ??= new Set(this.#closure.get(single as string) ?? [single as string]);
      for (const r of this.#closure.get(role) ?? [role]) result.add(r);
    }
    if (result !== undefined) return result;
    if (single === undefined) return EMPTY;
    return this.#closure.get(single) ?? new Set([single]);
  }

  /** The permissions granted by a set of effective roles. */
  permissionsOf(roles: ReadonlySet<string>): ReadonlySet<string> {
    const known = this.#permissionsByClosure.get(roles);
    if (known !== undefined) return known;
    const result = new Set<string>();
    for (const role of roles) for (const p of this.#permissions.get(role) ?? EMPTY) result.add(p);
    return result;
  }
}

const EMPTY: ReadonlySet<string> = new Set();
