import { type Auth, loginCredentials } from '@org/auth';
import { defineRoute, type Route, requestBody, requestParams, requestQuery } from '@org/core';
import { type IdempotencyStore, idempotency } from '@org/security';
import {
  ListUsersQuery,
  RefreshRequest,
  RegisterRequest,
  TokenResponse,
  UpdateMeRequest,
  User,
  UserIdParams,
  UserPage,
} from '../users/schemas.ts';
import type { SessionService } from '../users/session-service.ts';
import type { UserRecord } from '../users/user-repository.ts';
import { toUserDto, type UserService } from '../users/user-service.ts';
import { afterGuard, bearer, invalidToken, tooManyRequests as tooMany } from './route.ts';

/** What the users routes work with. */
export interface UserRoutesOptions {
  readonly auth: Auth<UserRecord, 'admin' | 'user'>;
  readonly users: UserService;
  readonly sessions: SessionService;
  /** Where `Idempotency-Key` records live (memory, or Redis when `REDIS_URL` is set). */
  readonly idempotencyStore: IdempotencyStore;
}

/** The `/api/v1` routes of the users API: auth, the caller's profile, and administration. */
export function userRoutes({
  auth,
  users,
  sessions,
  idempotencyStore,
}: UserRoutesOptions): Route[] {
  const currentUser = auth.currentUser;
  const admin = auth.requireRoles('admin');
  // Safe retries (Idempotency-Key): sign-ups are anonymous, so their keys are scoped to
  // the client IP; a profile change's to the signed-in user, hence `after`.
  const anonymousRetries = idempotency({ store: idempotencyStore });
  const userRetries = idempotency({ store: idempotencyStore, after: [currentUser] });
  return [
    defineRoute({
      method: 'POST',
      path: '/api/v1/auth/register',
      operationId: 'register',
      summary: 'Create an account',
      tags: ['auth'],
      dependencies: { input: requestBody(RegisterRequest), retries: anonymousRetries },
      responses: {
        201: { description: 'The new user.', schema: User },
        400: 'Malformed `Idempotency-Key`.',
        409: 'Email taken, or a request with this `Idempotency-Key` is still running.',
        422: 'Invalid input, or this `Idempotency-Key` was used with another request.',
        429: tooMany,
      },
      handler: async (_ctx, { input }) => ({ status: 201, body: await users.register(input) }),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/auth/login',
      operationId: 'login',
      summary: 'Sign in (JSON email/password or OAuth2 password form)',
      tags: ['auth'],
      dependencies: { credentials: loginCredentials() },
      bodyMediaTypes: ['application/json', 'application/x-www-form-urlencoded'],
      responses: {
        200: { description: 'A token pair.', schema: TokenResponse },
        401: 'Invalid email or password (the same answer for both).',
        429: {
          ...tooMany,
          description:
            '5 failures for this account from this client in 15 minutes, or too many requests from this client.',
        },
      },
      handler: async (ctx, { credentials }) => ({ body: await sessions.login(ctx, credentials) }),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/auth/refresh',
      operationId: 'refreshTokens',
      summary: 'Trade a refresh token for a new pair (the old one is spent)',
      tags: ['auth'],
      dependencies: { input: requestBody(RefreshRequest) },
      responses: {
        200: { description: 'A new token pair.', schema: TokenResponse },
        401: 'Unknown, expired or replayed token; a replay revokes the whole session.',
        429: tooMany,
        503: 'Sessions are unavailable (Redis is down).',
      },
      handler: async (_ctx, { input }) => ({ body: await sessions.refresh(input.refresh_token) }),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/auth/logout',
      operationId: 'logout',
      summary: 'End the session of a refresh token',
      tags: ['auth'],
      dependencies: { input: requestBody(RefreshRequest) },
      responses: {
        204: 'Signed out.',
        429: tooMany,
        503: 'Sessions are unavailable (Redis is down).',
      },
      handler: async (_ctx, { input }) => {
        await sessions.logout(input.refresh_token);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/users/me',
      operationId: 'getMe',
      summary: 'The signed-in user',
      tags: ['users'],
      security: bearer,
      dependencies: { user: currentUser },
      responses: {
        200: { description: 'The user.', schema: User },
        401: invalidToken,
        429: tooMany,
      },
      handler: (_ctx, { user }) => ({ body: toUserDto(user) }),
    }),
    defineRoute({
      method: 'PATCH',
      path: '/api/v1/users/me',
      operationId: 'updateMe',
      summary: 'Change your name (and nothing else)',
      tags: ['users'],
      security: bearer,
      dependencies: {
        user: currentUser,
        changes: afterGuard(currentUser, requestBody(UpdateMeRequest)),
        retries: userRetries,
      },
      responses: {
        200: { description: 'The updated user.', schema: User },
        400: 'Malformed `Idempotency-Key`.',
        401: invalidToken,
        409: 'A request with this `Idempotency-Key` is still running.',
        422: 'Invalid input, or this `Idempotency-Key` was used with another request.',
        429: tooMany,
      },
      handler: async (_ctx, { user, changes }) => ({ body: await users.update(user, changes) }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/users',
      operationId: 'listUsers',
      summary: 'List users (admin)',
      tags: ['users'],
      security: bearer,
      dependencies: { admin, page: afterGuard(admin, requestQuery(ListUsersQuery)) },
      responses: {
        200: { description: 'A page of users.', schema: UserPage },
        401: invalidToken,
        403: 'The caller is not an admin.',
        429: tooMany,
      },
      handler: async (_ctx, { page }) => ({ body: await users.list(page) }),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/api/v1/users/:id',
      operationId: 'deleteUser',
      summary: 'Delete a user (admin)',
      tags: ['users'],
      security: bearer,
      dependencies: { admin, target: afterGuard(admin, requestParams(UserIdParams)) },
      responses: {
        204: 'Deleted; their sessions are revoked.',
        401: invalidToken,
        403: 'The caller is not an admin.',
        404: 'No user has this id.',
        429: tooMany,
      },
      handler: async (ctx, { target }) => {
        await users.delete(target.id, (error) => ctx.toolkit.reportError(error, ctx));
        return { status: 204 };
      },
    }),
  ];
}
