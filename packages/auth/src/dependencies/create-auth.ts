import {
  authOutcomeChannel,
  ConfigurationError,
  type Context,
  defineDependency,
  principalIdKey,
  type SecurityEvent,
  securityEventChannel,
} from '@org/core';
import { InvalidTokenError, MissingTokenError } from '../errors/token-errors.js';
import { createTokenReader } from '../extract/token-extractor.js';
import { checkRealm } from '../internal/challenge.js';
import { defaultRoles, LazyPrincipal, type PrincipalSources } from '../internal/principal.js';
import { RoleGraph } from '../internal/role-graph.js';
import { type AccessTokenClaims, type AccessTokenVerifier, TokenError } from '../tokens/types.js';
import {
  API_KEY_ISSUER,
  type ApiKeyVerifier,
  createApiKeyAdmission,
  type MakePrincipal,
} from './api-key-admission.js';
import * as guards from './guards.js';
import type { Auth, Principal } from './types.js';

/** Options of {@link createAuth}. */
export interface AuthOptions<U, R extends string = string, P extends string = string> {
  /** Verifies access tokens; rejects with a `TokenError`. */
  verifier: AccessTokenVerifier;
  /**
   * Loads the user a verified token names (`sub`); null or undefined answers 401, as
   * for a deleted user. Roles are read from the user it returns.
   * @default the token's claims are the user
   */
  loadUser?: (
    id: string,
    claims: AccessTokenClaims,
  ) => U | null | undefined | Promise<U | null | undefined>;
  /** Whether a loaded user may act; false answers 401 (a suspended account). @default every loaded user is active */
  isActive?: (user: U) => boolean;
  /** Realm of the `WWW-Authenticate` challenges. @default 'api' */
  realm?: string;
  /** A cookie to read the token from when there is no `Authorization` header (see `createTokenExtractor`). @default undefined (none) */
  cookie?: string;
  /** Every role name; when given, guards naming another role throw at start-up. @default undefined (any name) */
  roles?: readonly R[];
  /** Roles each role includes, transitively. Replaces the default. @default { admin: ['user'] } */
  roleHierarchy?: { readonly [K in R]?: readonly R[] };
  /** Permissions each role grants; a role also has those of the roles it includes. @default {} */
  rolePermissions?: { readonly [K in R]?: readonly P[] };
  /**
   * The user's assigned roles. Only the verified token or the loaded user may say,
   * never the request.
   * @default the user's `roles` (string array) or `role` (string), else the token's `roles` claim
   */
  getRoles?: (user: U, claims: AccessTokenClaims) => Iterable<string> | undefined;
  /** The user's permissions, replacing those derived from `rolePermissions`. @default derived from the roles */
  getPermissions?: (user: U, claims: AccessTokenClaims) => Iterable<string> | undefined;
  /** The user's id, compared by `requireOwnership` and set as the access log's principal id. @default the token's `sub` */
  getUserId?: (user: U, claims: AccessTokenClaims) => string;
  /**
   * Accept API keys (from `createApiKeys`) as well as access tokens: `principal`,
   * `currentUser` and every guard then admit either, and `apiKey` admits only a key.
   * A key is read from the `apiKeyHeader` or from `Authorization: Bearer` when it starts
   * with the key prefix (a JWT never does). Its principal is the owner (`loadUser` is
   * called with the owner id) with the key's scopes, and the key's roles bounded by the
   * owner's (none when the key names none).
   * @default undefined (no API keys)
   */
  apiKeys?: ApiKeyVerifier;
  /** Header an API key may come in, besides `Authorization: Bearer`; false for none. @default 'x-api-key' */
  apiKeyHeader?: string | false;
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | null)?.then === 'function';
}

function isTokenError(error: unknown): error is TokenError {
  return error instanceof TokenError;
}

type Credential = 'access_token' | 'api_key';

function publish(
  ctx: Context,
  outcome: string,
  credential: Credential = 'access_token',
  detail?: string,
): void {
  if (authOutcomeChannel.hasSubscribers) authOutcomeChannel.publish({ ctx, outcome });
  // No credential at all is not a refusal: every anonymous request would be one.
  if (
    outcome !== 'success' &&
    outcome !== MissingTokenError.code &&
    securityEventChannel.hasSubscribers
  ) {
    securityEventChannel.publish({
      event: 'token.refused',
      time: Date.now(),
      request_id: ctx.requestId,
      client_ip: ctx.clientIp,
      credential,
      reason: outcome,
      ...(detail === undefined ? {} : { detail }),
    } satisfies SecurityEvent);
  }
}

/** The short, token-free reason a verifier put in a refusal's `cause`. */
function reasonOf(error: TokenError): string | undefined {
  return error.cause instanceof Error ? error.cause.message : undefined;
}

const publishKeyOutcome = (ctx: Context, outcome: string): void => publish(ctx, outcome, 'api_key');

/**
 * Creates the authentication dependencies and authorization guards of an app,
 * framework-neutral, so they work on every adapter. The token is read by
 * `createTokenExtractor` rules (one `Authorization: Bearer` header, optionally a
 * cookie, never the query string), verified, and its user loaded once per request.
 *
 * @example
 * ```ts
 * const auth = createAuth({
 *   verifier,
 *   loadUser: (id) => users.findById(id),
 *   isActive: (user) => !user.suspended,
 *   roles: ['admin', 'user'],
 *   roleHierarchy: { admin: ['user'], user: [] },
 * });
 * app.get('/users/me', { user: auth.currentUser }, (ctx, { user }) => ({ body: user }));
 * app.get('/users', { admin: auth.requireRoles('admin') }, listUsers);
 * ```
 */
export function createAuth<
  U = AccessTokenClaims,
  const R extends string = string,
  const P extends string = string,
>(options: AuthOptions<U, R, P>): Auth<U, R, P> {
  const { verifier, loadUser, isActive, getUserId, getPermissions } = options;
  if (typeof verifier?.verify !== 'function') {
    throw new ConfigurationError(
      'createAuth needs options.verifier, an AccessTokenVerifier (createAccessTokenVerifier()).',
    );
  }
  const realm = checkRealm('realm', options.realm ?? 'api');
  const { read: readToken, check: checkToken } = createTokenReader({
    realm,
    ...(options.cookie === undefined ? {} : { cookie: options.cookie }),
  });
  const graph = new RoleGraph(
    (options.roleHierarchy ?? { admin: ['user'] }) as Record<string, readonly string[]>,
    (options.rolePermissions ?? {}) as Record<string, readonly string[]>,
    options.roles,
  );
  const sources: PrincipalSources<U> = {
    graph,
    getRoles: options.getRoles ?? defaultRoles,
    getPermissions,
  };
  const inactive = () =>
    new InvalidTokenError({ realm, description: 'The token does not belong to an active user.' });

  const tokenPrincipal: MakePrincipal<U> = (id, user, claims) =>
    new LazyPrincipal(id, user, claims, sources);

  const admit = (
    ctx: Context,
    claims: AccessTokenClaims,
    user: U | null | undefined,
    make: MakePrincipal<U> = tokenPrincipal,
  ): Principal<U> => {
    if (user === null || user === undefined || (isActive !== undefined && !isActive(user))) {
      publish(
        ctx,
        InvalidTokenError.code,
        claims.iss === API_KEY_ISSUER ? 'api_key' : 'access_token',
        'user inactive or gone',
      );
      throw inactive();
    }
    const principal = make(getUserId?.(user, claims) ?? claims.sub, user, claims);
    ctx.set(principalIdKey, principal.id);
    publish(ctx, 'success');
    return principal;
  };

  /** Loads the user of verified claims and admits it, awaiting only an async loadUser. */
  const loadAndAdmit = (
    ctx: Context,
    claims: AccessTokenClaims,
  ): Principal<U> | Promise<Principal<U>> => {
    if (loadUser === undefined) return admit(ctx, claims, claims as U);
    const user = loadUser(claims.sub, claims);
    return isPromiseLike(user)
      ? Promise.resolve(user).then((u) => admit(ctx, claims, u))
      : admit(ctx, claims, user);
  };

  const verifyAndAdmit = async (ctx: Context, token: string): Promise<Principal<U>> => {
    let claims: AccessTokenClaims;
    try {
      claims = await verifier.verify(token);
    } catch (error) {
      if (!isTokenError(error)) throw error;
      // The verifier's reason stays in the event; the 401 says only invalid or expired.
      publish(ctx, error.code, 'access_token', reasonOf(error));
      throw InvalidTokenError.fromTokenError(error, realm);
    }
    return loadAndAdmit(ctx, claims);
  };

  /** Publishes a refusal of the request's credentials and returns it to be thrown. */
  const refused = (ctx: Context, error: unknown): unknown => {
    publish(ctx, (error as { code: string }).code);
    return error;
  };

  const keys =
    options.apiKeys === undefined
      ? undefined
      : createApiKeyAdmission(
          options.apiKeys,
          options.apiKeyHeader,
          realm,
          sources,
          publishKeyOutcome,
        );
  const admitKey = (ctx: Context, key: string): Promise<Principal<U>> =>
    (keys as NonNullable<typeof keys>).verify(
      ctx,
      key,
      (claims) => (loadUser === undefined ? (claims as U) : loadUser(claims.sub, claims)),
      (claims, user, make) => admit(ctx, claims, user, make),
    );
  const readBearer = (ctx: Context): string | undefined => {
    try {
      return readToken(ctx);
    } catch (error) {
      throw refused(ctx, error);
    }
  };

  const optionalPrincipal = defineDependency({
    name: 'optionalPrincipal',
    resolve: (ctx): Principal<U> | undefined | Promise<Principal<U> | undefined> => {
      const token = readBearer(ctx);
      if (keys !== undefined) {
        const key = keys.read(ctx, token);
        if (key !== undefined) return admitKey(ctx, key);
      }
      if (token === undefined) return undefined;
      // A token the verifier already knows is admitted without a promise (unless loadUser
      // is async) and without the b64token check: it passed that check before it was verified.
      const known = verifier.cachedClaims?.(token);
      if (known !== undefined) return loadAndAdmit(ctx, known);
      try {
        checkToken(token);
      } catch (error) {
        throw refused(ctx, error);
      }
      return verifyAndAdmit(ctx, token);
    },
  });

  const principal = defineDependency({
    name: 'principal',
    inject: { optionalPrincipal },
    resolve: (ctx, { optionalPrincipal: found }): Principal<U> => {
      if (found !== undefined) return found;
      publish(ctx, MissingTokenError.code);
      throw new MissingTokenError({ realm });
    },
  });

  const apiKey = defineDependency({
    name: 'apiKey',
    resolve: (ctx): Promise<Principal<U>> => {
      if (keys === undefined) {
        throw new ConfigurationError(
          'auth.apiKey needs createAuth({ apiKeys: createApiKeys(...) }).',
        );
      }
      const key = keys.read(ctx, readBearer(ctx));
      if (key === undefined) {
        publish(ctx, MissingTokenError.code);
        throw new MissingTokenError({ realm });
      }
      return admitKey(ctx, key);
    },
  });

  const context: guards.GuardContext<U> = {
    principal,
    graph,
    realm,
    rolesDeclared: options.roles !== undefined,
  };
  return Object.freeze({
    principal,
    optionalPrincipal,
    apiKey,
    currentUser: defineDependency({
      name: 'currentUser',
      inject: { principal },
      resolve: (_ctx, values) => values.principal.user,
    }),
    optionalUser: defineDependency({
      name: 'optionalUser',
      inject: { optionalPrincipal },
      resolve: (_ctx, values) => values.optionalPrincipal?.user,
    }),
    requireRoles: (...roles) => guards.requireRoles(context, roles),
    requirePermissions: (...permissions) => guards.requirePermissions(context, permissions),
    requireScopes: (...scopes) => guards.requireScopes(context, scopes),
    requireOwnership: (getOwnerId, ownership) =>
      guards.requireOwnership(context, getOwnerId, ownership),
  } satisfies Auth<U, R, P>);
}
