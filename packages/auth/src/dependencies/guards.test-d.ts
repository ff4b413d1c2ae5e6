import {
  type AccessTokenClaims,
  type AccessTokenVerifier,
  allOf,
  anyOf,
  createAuth,
  type Guard,
  type Principal,
  type WithRoles,
} from '@org/auth';
import type { Dependency, ResolvedValues } from '@org/core';
import { createToolkit } from '@org/core';
import { createNodeAdapter } from '@org/core/node';
import { describe, expectTypeOf, it } from 'vitest';

interface AppUser {
  id: string;
  email: string;
  roles: string[];
}

declare const verifier: AccessTokenVerifier;
declare const findUser: (id: string) => Promise<AppUser | undefined>;

const auth = createAuth({
  verifier,
  loadUser: findUser,
  roles: ['admin', 'editor', 'user'],
  roleHierarchy: { admin: ['editor'], editor: ['user'] },
  rolePermissions: { editor: ['posts:write'], admin: ['users:delete'] },
});

describe('createAuth types', () => {
  it('infers the user from loadUser', () => {
    expectTypeOf(auth.currentUser).toEqualTypeOf<Dependency<AppUser>>();
    expectTypeOf(auth.optionalUser).toEqualTypeOf<Dependency<AppUser | undefined>>();
    expectTypeOf(auth.principal).toEqualTypeOf<Dependency<Principal<AppUser>>>();
  });

  it('gives a handler after requireRoles a user proven to hold the role', () => {
    const app = createNodeAdapter(createToolkit());
    app.get('/admin', { admin: auth.requireRoles('admin') }, (_ctx, { admin }) => {
      expectTypeOf(admin).toEqualTypeOf<WithRoles<AppUser, 'admin'>>();
      expectTypeOf(admin).toExtend<AppUser>();
      expectTypeOf(admin.email).toBeString();
      return { body: admin.email };
    });
    type Values = ResolvedValues<{
      user: typeof auth.currentUser;
      editor: Guard<WithRoles<AppUser, 'editor'>>;
    }>;
    expectTypeOf<Values['user']>().toEqualTypeOf<AppUser>();
  });

  it('lets functions demand proof of a role', () => {
    const deleteAccount = (_actor: WithRoles<AppUser, 'admin'>) => true;
    const plain = {} as AppUser;
    // @ts-expect-error a user not proven to be an admin
    deleteAccount(plain);
    deleteAccount({} as WithRoles<AppUser, 'admin'>);
    deleteAccount({} as WithRoles<AppUser, 'admin' | 'editor'>);
    // @ts-expect-error proof of another role is not proof of admin
    deleteAccount({} as WithRoles<AppUser, 'editor'>);
  });

  it('rejects role and permission names the app did not declare', () => {
    // @ts-expect-error a typo in a role name
    auth.requireRoles('admni');
    // @ts-expect-error a permission no role grants
    auth.requirePermissions('posts:delete');
    // @ts-expect-error at least one role
    auth.requireRoles();
    auth.requirePermissions('posts:write', 'users:delete');
    auth.requireOwnership(() => 'id', { overrideRoles: ['admin'] });
    // @ts-expect-error unknown override role
    auth.requireOwnership(() => 'id', { overrideRoles: ['root'] });
  });

  it('combines proofs with allOf and anyOf', () => {
    const both = allOf(auth.requireRoles('admin'), auth.requireScopes('users:write'));
    expectTypeOf(both).toExtend<Guard<WithRoles<AppUser, 'admin'>>>();
    const either = anyOf(auth.requireRoles('admin'), auth.requireRoles('editor'));
    expectTypeOf(either).toEqualTypeOf<
      Guard<WithRoles<AppUser, 'admin'> | WithRoles<AppUser, 'editor'>>
    >();
    // @ts-expect-error combinators take guards, not any dependency
    allOf(auth.currentUser);
  });

  it('uses the token claims as the user when there is no loadUser', () => {
    const stateless = createAuth({ verifier });
    expectTypeOf(stateless.currentUser).toEqualTypeOf<Dependency<AccessTokenClaims>>();
    stateless.requireRoles('anything');
  });
});
