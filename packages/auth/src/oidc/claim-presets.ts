import { invalidToken } from '../internal/verify-jwt.js';
import type { AccessTokenClaims } from '../tokens/types.js';
import type { ClaimMapper, MappedClaims } from './claim-mapper.js';

/** Options of {@link claimPresets}`.auth0`. */
export interface Auth0ClaimOptions {
  /**
   * A namespaced claim holding a roles array, added by an Auth0 Action (Auth0 puts
   * no roles in access tokens by itself), for example `'https://api.example.com/roles'`.
   * @default undefined (no roles)
   */
  rolesClaim?: string;
}

/** Options of {@link claimPresets}`.keycloak`. */
export interface KeycloakClaimOptions {
  /** The client whose `resource_access.<clientId>.roles` are roles too. @default undefined (realm roles only) */
  clientId?: string;
  /** Whether `realm_access.roles` are roles. @default true */
  realmRoles?: boolean;
}

/** Options of {@link claimPresets}`.entraId`. */
export interface EntraIdClaimOptions {
  /** The directory (tenant) id the `tid` claim must equal; a token of another tenant is a 401. @default undefined (not checked) */
  tenantId?: string;
  /**
   * The claim that identifies the principal: `sub` (pairwise, per application) or
   * `oid` (the object id, the same across applications of the tenant).
   * @default 'sub'
   */
  subjectClaim?: 'sub' | 'oid';
}

/** Options of {@link claimPresets}`.okta`. */
export interface OktaClaimOptions {
  /** A claim holding a string array of roles (a "groups" claim added on the authorization server). @default 'groups' */
  rolesClaim?: string;
}

function strings(value: unknown): string[] {
  return Array.isArray(value)
    ? value.filter((item): item is string => typeof item === 'string')
    : [];
}

function spaceSeparated(value: unknown): string[] {
  return typeof value === 'string' ? value.split(' ').filter((item) => item !== '') : [];
}

function member(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, name)
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

function standard(claims: AccessTokenClaims): MappedClaims {
  return {
    subject: claims.sub,
    roles: strings(claims.roles),
    scopes: [
      ...spaceSeparated(claims.scope),
      ...spaceSeparated(claims.scp),
      ...strings(claims.scp),
    ],
  };
}

/**
 * Claim mappings of common identity providers, for `createOidcVerifier`'s `claims`
 * option (per issuer or for all). Each returns a {@link ClaimMapper}.
 *
 * - `standard()`: `sub`; `roles` (string array); `scope` and `scp` (string or array). The default.
 * - `auth0()`: `sub`; `permissions` (RBAC for the API) and `scope` are scopes; roles from `rolesClaim`.
 * - `keycloak()`: `sub`; `realm_access.roles` and `resource_access.<clientId>.roles` are roles; `scope`.
 * - `entraId()`: `sub` or `oid`; `roles` (app roles); `scp` (space-separated delegated scopes); `tid` checked.
 * - `okta()`: `sub`; `scp` (array) are scopes; roles from the `groups` claim.
 * - `custom(mapper)`: your own mapper, typed.
 *
 * @example
 * ```ts
 * const verifier = createOidcVerifier({
 *   issuers: [{ issuer: 'https://sso.example.com/realms/acme', claims: claimPresets.keycloak({ clientId: 'orders-api' }) }],
 *   audience: 'orders-api',
 * });
 * ```
 */
export const claimPresets = Object.freeze({
  /** The toolkit's own claims: `sub`, `roles`, `scope` and `scp`. */
  standard: (): ClaimMapper => standard,

  /** Auth0: API permissions (RBAC "Add Permissions in the Access Token") and `scope` become scopes. */
  auth0: (options: Auth0ClaimOptions = {}): ClaimMapper => {
    const { rolesClaim } = options;
    return (claims) => ({
      subject: claims.sub,
      roles: rolesClaim === undefined ? [] : strings(claims[rolesClaim]),
      scopes: [...spaceSeparated(claims.scope), ...strings(claims.permissions)],
    });
  },

  /** Keycloak: realm roles and the roles of one client become roles; `scope` becomes scopes. */
  keycloak: (options: KeycloakClaimOptions = {}): ClaimMapper => {
    const { clientId, realmRoles = true } = options;
    return (claims) => ({
      subject: claims.sub,
      roles: [
        ...(realmRoles ? strings(member(claims.realm_access, 'roles')) : []),
        ...(clientId === undefined
          ? []
          : strings(member(member(claims.resource_access, clientId), 'roles'))),
      ],
      scopes: spaceSeparated(claims.scope),
    });
  },

  /** Microsoft Entra ID (v1 and v2 tokens): app `roles`, delegated `scp`, and the tenant in `tid`. */
  entraId: (options: EntraIdClaimOptions = {}): ClaimMapper => {
    const { tenantId, subjectClaim = 'sub' } = options;
    return (claims) => {
      if (tenantId !== undefined && claims.tid !== tenantId)
        throw invalidToken('"tid" is another tenant');
      const subject = claims[subjectClaim];
      if (typeof subject !== 'string') throw invalidToken(`no "${subjectClaim}"`);
      return { subject, roles: strings(claims.roles), scopes: spaceSeparated(claims.scp) };
    };
  },

  /** Okta: the `scp` array becomes scopes; a groups claim becomes roles. */
  okta: (options: OktaClaimOptions = {}): ClaimMapper => {
    const { rolesClaim = 'groups' } = options;
    return (claims) => ({
      subject: claims.sub,
      roles: strings(claims[rolesClaim]),
      scopes: [...strings(claims.scp), ...spaceSeparated(claims.scp)],
    });
  },

  /** Your own mapping, checked by the compiler: `(claims) => ({ subject, roles, scopes })`. */
  custom: (mapper: ClaimMapper): ClaimMapper => mapper,
});
