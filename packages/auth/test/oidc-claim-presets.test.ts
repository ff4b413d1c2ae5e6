import {
  type AccessTokenClaims,
  type ClaimMapper,
  claimPresets,
  createAuth,
  createOidcVerifier,
  type MappedClaims,
  TokenError,
} from '@org/auth';
import { describe, expect, expectTypeOf, it } from 'vitest';

const base = {
  iss: 'https://id.example.test/',
  aud: 'api://orders',
  sub: 'user-1',
  exp: 4_000_000_000,
  iat: 1_900_000_000,
  jti: 'j-1',
};

function claims(extra: Record<string, unknown>): AccessTokenClaims {
  return { ...base, ...extra } as AccessTokenClaims;
}

function mapped(mapper: ClaimMapper, extra: Record<string, unknown>) {
  const result = mapper(claims(extra));
  return {
    subject: result.subject,
    roles: [...(result.roles ?? [])].sort(),
    scopes: [...(result.scopes ?? [])].sort(),
  };
}

describe('claimPresets', () => {
  it('standard: roles, scope and scp (string or array)', () => {
    expect(
      mapped(claimPresets.standard(), { roles: ['admin', 7], scope: 'a b', scp: ['c'] }),
    ).toEqual({
      subject: 'user-1',
      roles: ['admin'],
      scopes: ['a', 'b', 'c'],
    });
  });

  it('auth0: permissions and scope become scopes; roles only from a namespaced claim', () => {
    const token = {
      scope: 'openid read:orders',
      permissions: ['read:orders', 'write:orders'],
      'https://orders.example.test/roles': ['manager'],
      roles: ['ignored'],
    };
    expect(mapped(claimPresets.auth0(), token)).toEqual({
      subject: 'user-1',
      roles: [],
      scopes: ['openid', 'read:orders', 'read:orders', 'write:orders'].sort(),
    });
    expect(
      mapped(claimPresets.auth0({ rolesClaim: 'https://orders.example.test/roles' }), token).roles,
    ).toEqual(['manager']);
  });

  it('keycloak: realm roles and the roles of one client; scope', () => {
    const token = {
      scope: 'profile email',
      realm_access: { roles: ['offline_access', 'staff'] },
      resource_access: { 'orders-api': { roles: ['orders-admin'] }, other: { roles: ['x'] } },
    };
    expect(mapped(claimPresets.keycloak(), token)).toEqual({
      subject: 'user-1',
      roles: ['offline_access', 'staff'],
      scopes: ['email', 'profile'],
    });
    expect(
      mapped(claimPresets.keycloak({ clientId: 'orders-api', realmRoles: false }), token).roles,
    ).toEqual(['orders-admin']);
    // A client that is absent, or a malformed claim, grants nothing.
    expect(
      mapped(claimPresets.keycloak({ clientId: 'absent' }), { realm_access: 'x' }).roles,
    ).toEqual([]);
    expect(mapped(claimPresets.keycloak({ clientId: '__proto__' }), token).roles).toContain(
      'staff',
    );
  });

  it('entraId: app roles, scp string, tid of v1 and v2 tokens; oid as subject on request', () => {
    const tid = '72f988bf-86f1-41af-91ab-2d7cd011db47';
    const v2 = {
      iss: `https://login.microsoftonline.com/${tid}/v2.0`,
      tid,
      oid: 'oid-1',
      roles: ['Orders.ReadWrite.All'],
      scp: 'Orders.Read User.Read',
    };
    expect(mapped(claimPresets.entraId({ tenantId: tid }), v2)).toEqual({
      subject: 'user-1',
      roles: ['Orders.ReadWrite.All'],
      scopes: ['Orders.Read', 'User.Read'],
    });
    const v1 = { ...v2, iss: `https://sts.windows.net/${tid}/` };
    expect(mapped(claimPresets.entraId({ tenantId: tid, subjectClaim: 'oid' }), v1).subject).toBe(
      'oid-1',
    );
    expect(() => mapped(claimPresets.entraId({ tenantId: 'another' }), v2)).toThrow(TokenError);
    expect(() => mapped(claimPresets.entraId({ subjectClaim: 'oid' }), { tid })).toThrow(
      TokenError,
    );
  });

  it('okta: the scp array becomes scopes; groups become roles', () => {
    const token = { scp: ['orders.read', 'openid'], groups: ['Everyone', 'Admins'] };
    expect(mapped(claimPresets.okta(), token)).toEqual({
      subject: 'user-1',
      roles: ['Admins', 'Everyone'],
      scopes: ['openid', 'orders.read'],
    });
    expect(mapped(claimPresets.okta({ rolesClaim: 'teams' }), token).roles).toEqual([]);
  });

  it('custom: a typed mapper', () => {
    const mapper = claimPresets.custom((token) => ({
      subject: `${token.iss}#${token.sub}`,
      roles: token.department === 'finance' ? ['billing'] : [],
    }));
    expectTypeOf(mapper).toEqualTypeOf<ClaimMapper>();
    expectTypeOf<ReturnType<ClaimMapper>>().toEqualTypeOf<MappedClaims>();
    expect(mapped(mapper, { department: 'finance' })).toEqual({
      subject: 'https://id.example.test/#user-1',
      roles: ['billing'],
      scopes: [],
    });
    // @ts-expect-error a mapper must return a subject
    claimPresets.custom(() => ({ roles: [] }));
  });

  it('is accepted by createOidcVerifier and createAuth, and refuses a mapper that is not a function', () => {
    const verifier = createOidcVerifier({
      issuers: [{ issuer: 'https://tenant.eu.auth0.com/', claims: claimPresets.auth0() }],
      audience: 'https://orders.example.test',
      claims: claimPresets.okta(),
    });
    expect(typeof createAuth({ verifier }).principal).toBe('object');
    expect(() =>
      createOidcVerifier({
        issuers: [
          { issuer: 'https://tenant.eu.auth0.com/', claims: 'auth0' as unknown as ClaimMapper },
        ],
        audience: 'https://orders.example.test',
      }),
    ).toThrow(/claims must be a ClaimMapper/);
  });
});
