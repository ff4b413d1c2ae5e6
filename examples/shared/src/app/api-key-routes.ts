import type { ApiKeyRecord, ApiKeys, Auth, Principal } from '@org/auth';
import {
  defineDependency,
  defineRoute,
  ForbiddenError,
  NotFoundError,
  type Route,
  requestBody,
  requestParams,
  requestQuery,
} from '@org/core';
import * as z from 'zod';
import type { UserRecord } from '../users/user-repository.ts';
import { afterGuard, bearer, invalidToken, tooManyRequests as tooMany } from './route.ts';

/**
 * The scopes a key may carry. Labels for `requireScopes` on routes that want them
 * (`principal.scopes` of a key's request); the example's own routes check none. A key
 * never carries roles: it acts as its owner on the routes any user may call, and an
 * admin route answers it 403 (least privilege, OWASP API5:2023).
 */
export const API_KEY_SCOPES = ['users:read', 'users:write'] as const;
/** The longest lifetime a key may ask for: one year. */
export const MAX_API_KEY_LIFETIME = 365 * 86_400;

export const CreateApiKeyRequest = z
  .strictObject({
    name: z.string().trim().min(1).max(100).describe('A label for you, 1 to 100 characters.'),
    scopes: z
      .array(z.enum(API_KEY_SCOPES))
      .max(API_KEY_SCOPES.length)
      .default([])
      .describe(`Scopes the key grants, among ${API_KEY_SCOPES.join(', ')}. Default: none.`),
    expires_in: z
      .number()
      .int()
      .min(1)
      .max(MAX_API_KEY_LIFETIME)
      .optional()
      .describe('Lifetime in seconds, at most one year. Default: no expiry.'),
  })
  .meta({ id: 'CreateApiKeyRequest' });

const iso = z.iso.datetime();

export const ApiKey = z
  .object({
    id: z.string(),
    name: z.string(),
    owner_id: z.string(),
    scopes: z.array(z.string()),
    created_at: iso,
    expires_at: iso.nullable(),
    last_used_at: iso.nullable().describe('To within a minute.'),
    revoked_at: iso.nullable(),
  })
  .meta({ id: 'ApiKey', description: 'An API key as listed: never the key itself.' });

export const CreatedApiKey = z
  .object({
    id: z.string(),
    name: z.string(),
    key: z.string().describe('The key. Shown this once: only its hash is stored.'),
    scopes: z.array(z.string()),
    created_at: iso,
    expires_at: iso.nullable(),
  })
  .meta({ id: 'CreatedApiKey', description: 'A key just created, with its secret, shown once.' });

export const ApiKeyList = z
  .object({ items: z.array(ApiKey) })
  .meta({ id: 'ApiKeyList', description: 'Keys in creation order, revoked and expired included.' });

export const ListApiKeysQuery = z.object({
  owner: z.uuid().optional().describe('Admins only: list this user’s keys instead of yours.'),
});

/** Key ids are 16 base62 characters; anything else cannot name a key. */
export const ApiKeyIdParams = z.object({ id: z.string().regex(/^[A-Za-z0-9]{16}$/) });

/** What the API key routes work with. */
export interface ApiKeyRoutesOptions {
  readonly auth: Auth<UserRecord, 'admin' | 'user'>;
  readonly apiKeys: ApiKeys;
}

const tokenOnly = 'Called with an API key: keys are managed with an access token only.';
const unavailable = 'API keys are unavailable (their store, Redis or the database, is down).';

const time = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

function listed(record: ApiKeyRecord): z.output<typeof ApiKey> {
  return {
    id: record.id,
    name: record.name,
    owner_id: record.owner,
    scopes: [...record.scopes],
    created_at: new Date(record.createdAt).toISOString(),
    expires_at: time(record.expiresAt),
    last_used_at: time(record.lastUsedAt),
    revoked_at: time(record.revokedAt),
  };
}

/**
 * The `/api/v1/api-keys` routes: a signed-in user creates, lists and revokes their own
 * keys; an admin lists (`?owner=`) and revokes anyone's. Managing keys takes an access
 * token: a request authenticated by a key gets 403, so a leaked key cannot mint more
 * keys, or revoke the others to lock its owner out.
 */
export function apiKeyRoutes({ auth, apiKeys }: ApiKeyRoutesOptions): Route[] {
  const caller = defineDependency({
    name: 'tokenCaller',
    inject: { principal: auth.principal },
    resolve: (_ctx, { principal }): Principal<UserRecord> => {
      if (principal.apiKey !== undefined) {
        throw new ForbiddenError({ code: 'ERR_API_KEY_NOT_ALLOWED', detail: tokenOnly });
      }
      return principal;
    },
  });
  const isAdmin = (principal: Principal<UserRecord>) => principal.roles.has('admin');

  return [
    defineRoute({
      method: 'POST',
      path: '/api/v1/api-keys',
      operationId: 'createApiKey',
      summary: 'Create an API key (shown once)',
      tags: ['api-keys'],
      security: bearer,
      dependencies: { caller, input: afterGuard(caller, requestBody(CreateApiKeyRequest)) },
      responses: {
        201: { description: 'The key, shown this once.', schema: CreatedApiKey },
        401: invalidToken,
        403: tokenOnly,
        429: tooMany,
        503: unavailable,
      },
      handler: async (_ctx, { caller, input }) => {
        const { key, record } = await apiKeys.create({
          owner: caller.id,
          name: input.name,
          scopes: input.scopes,
          ...(input.expires_in === undefined ? {} : { expiresIn: input.expires_in }),
        });
        return {
          status: 201,
          body: {
            id: record.id,
            name: record.name,
            key,
            scopes: [...record.scopes],
            created_at: new Date(record.createdAt).toISOString(),
            expires_at: time(record.expiresAt),
          },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/api-keys',
      operationId: 'listApiKeys',
      summary: 'Your API keys, without their secrets (an admin: anyone’s with ?owner=)',
      tags: ['api-keys'],
      security: bearer,
      dependencies: { caller, query: afterGuard(caller, requestQuery(ListApiKeysQuery)) },
      responses: {
        200: { description: 'The keys.', schema: ApiKeyList },
        401: invalidToken,
        403: `${tokenOnly} Or ?owner= names someone else and the caller is not an admin.`,
        429: tooMany,
        503: unavailable,
      },
      handler: async (_ctx, { caller, query }) => {
        const owner = query.owner ?? caller.id;
        if (owner !== caller.id && !isAdmin(caller)) {
          throw new ForbiddenError({ detail: 'Only an admin may list the keys of another user.' });
        }
        return { body: { items: (await apiKeys.list(owner)).map(listed) } };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/api/v1/api-keys/:id',
      operationId: 'revokeApiKey',
      summary: 'Revoke an API key (yours; an admin: anyone’s)',
      tags: ['api-keys'],
      security: bearer,
      dependencies: { caller, target: afterGuard(caller, requestParams(ApiKeyIdParams)) },
      responses: {
        204: 'Revoked: refused at once on every instance. Revoking a revoked key is a 204 too.',
        401: invalidToken,
        403: tokenOnly,
        // Someone else's key is a 404 too, so key ids cannot be probed (OWASP API1:2023).
        404: 'You have no key with this id.',
        429: tooMany,
        503: unavailable,
      },
      handler: async (_ctx, { caller, target }) => {
        const found = await apiKeys.get(target.id);
        if (found === undefined || (found.owner !== caller.id && !isAdmin(caller))) {
          throw new NotFoundError({ detail: 'You have no API key with this id.' });
        }
        await apiKeys.revoke(found.id);
        return { status: 204 };
      },
    }),
  ];
}
