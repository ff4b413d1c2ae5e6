import { ConfigurationError, type Context } from '@org/core';
import { ApiKeyError } from '../api-keys/api-key-error.js';
import type { ApiKeys } from '../api-keys/api-key-manager.js';
import type { ApiKeyRecord } from '../api-keys/types.js';
import { MalformedAuthorizationError } from '../errors/token-errors.js';
import { LazyPrincipal, type PrincipalSources } from '../internal/principal.js';
import type { AccessTokenClaims } from '../tokens/types.js';
import type { Principal } from './types.js';

/**
 * The `iss` of the claims an API key's principal carries.
 *
 * @example
 * ```ts
 * const viaKey = principal.claims.iss === API_KEY_ISSUER; // or: principal.apiKey !== undefined
 * ```
 */
export const API_KEY_ISSUER = 'urn:org:api-key';

/**
 * What `createAuth` needs of an API key manager: the result of `createApiKeys`.
 *
 * @example
 * ```ts
 * const auth = createAuth({ verifier, apiKeys: createApiKeys({ store }) });
 * ```
 */
export type ApiKeyVerifier = Pick<ApiKeys, 'isApiKey' | 'verify'>;

/** A principal admitted by an API key: the same type as a token's, plus the key's record. */
class ApiKeyPrincipal<U> extends LazyPrincipal<U> {
  readonly apiKey: ApiKeyRecord;
  constructor(
    id: string,
    user: U,
    claims: AccessTokenClaims,
    sources: PrincipalSources<U>,
    apiKey: ApiKeyRecord,
  ) {
    super(id, user, claims, sources);
    this.apiKey = apiKey;
  }
}

/**
 * Claims standing in for a token's, so every guard reads a key like a token: `sub` the
 * owner, `jti` the key id, `scope` its scopes, `roles` its roles when it has some, `exp`
 * its expiry (`Number.MAX_SAFE_INTEGER` when it has none).
 */
function claimsOf(record: ApiKeyRecord): AccessTokenClaims {
  return {
    sub: record.owner,
    iss: API_KEY_ISSUER,
    aud: [],
    iat: Math.floor(record.createdAt / 1000),
    exp:
      record.expiresAt === undefined
        ? Number.MAX_SAFE_INTEGER
        : Math.floor(record.expiresAt / 1000),
    jti: record.id,
    scope: record.scopes.join(' '),
    ...(record.roles === undefined ? {} : { roles: record.roles }),
  };
}

/** How `createAuth` reads and admits API keys. @internal */
export interface ApiKeyAdmission<U> {
  /** The request's API key: the key header, or a bearer credential with the key prefix; else undefined. */
  read(ctx: Context, bearer: string | undefined): string | undefined;
  /** Verifies the key and its owner; the user is admitted by `admit`. */
  verify(
    ctx: Context,
    key: string,
    load: (claims: AccessTokenClaims) => U | null | undefined | Promise<U | null | undefined>,
    admit: (
      claims: AccessTokenClaims,
      user: U | null | undefined,
      make: MakePrincipal<U>,
    ) => Principal<U>,
  ): Promise<Principal<U>>;
}

/** Builds the principal once the user is loaded and active. @internal */
export type MakePrincipal<U> = (id: string, user: U, claims: AccessTokenClaims) => Principal<U>;

/** @internal */
export function createApiKeyAdmission<U>(
  apiKeys: ApiKeyVerifier,
  header: string | false | undefined,
  realm: string,
  sources: PrincipalSources<U>,
  publish: (ctx: Context, outcome: string) => void,
): ApiKeyAdmission<U> {
  if (typeof apiKeys?.verify !== 'function' || typeof apiKeys.isApiKey !== 'function') {
    throw new ConfigurationError('createAuth: apiKeys must be the result of createApiKeys().');
  }
  const headerName = header === false ? undefined : (header ?? 'x-api-key').toLowerCase();
  if (headerName !== undefined && !/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(headerName)) {
    throw new ConfigurationError(
      `createAuth: apiKeyHeader must be a header name; received ${JSON.stringify(header)}.`,
    );
  }
  const refuse = (ctx: Context, description: string): never => {
    publish(ctx, MalformedAuthorizationError.code);
    throw new MalformedAuthorizationError({ realm, description });
  };

  /**
   * Roles of a key: its own, bounded by what its owner holds now; none given, none (least
   * privilege, OWASP API5:2023: a key made for reading cannot administer).
   */
  const sourcesOf = (record: ApiKeyRecord): PrincipalSources<U> => {
    const keyRoles = record.roles ?? [];
    return {
      ...sources,
      getRoles: (user, claims) => {
        if ((user as unknown) === claims) return keyRoles;
        const { roles: _keyRoles, ...ownerClaims } = claims;
        const held = sources.graph.effectiveRoles(
          sources.getRoles(user, ownerClaims as AccessTokenClaims) ?? [],
        );
        return keyRoles.filter((role) => held.has(role));
      },
    };
  };

  return {
    read(ctx, bearer) {
      const values = headerName === undefined ? [] : ctx.request.headerValues(headerName);
      if (values.length > 1) return refuse(ctx, `Send exactly one ${headerName} header.`);
      if (values.length === 1) {
        if (bearer !== undefined)
          return refuse(ctx, 'Send an API key or a bearer token, not both.');
        return values[0] as string;
      }
      return bearer !== undefined && apiKeys.isApiKey(bearer) ? bearer : undefined;
    },

    async verify(ctx, key, load, admit) {
      let record: ApiKeyRecord;
      try {
        record = await apiKeys.verify(key);
      } catch (error) {
        if (!(error instanceof ApiKeyError)) throw error;
        publish(ctx, error.code);
        // Re-issued with this app's realm; the key itself is never part of the answer.
        throw new ApiKeyError(error.code, { realm });
      }
      const claims = claimsOf(record);
      const user = await load(claims);
      const keySources = sourcesOf(record);
      return admit(
        claims,
        user,
        (id, admitted, c) => new ApiKeyPrincipal(id, admitted, c, keySources, record),
      );
    },
  };
}
