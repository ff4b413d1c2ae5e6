import { request as httpRequest } from 'node:http';
import { allOf, anyOf, createAuth, TokenError } from '@org/auth';
import { type Context, createToolkit } from '@org/core';
import type { AdapterFixture, RouteSpec, RunningApp } from '@org/test-support';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { fakeVerifier } from './helpers.js';

/**
 * The app the auth dependency and guard suites run on every adapter: users in a
 * map, a fake verifier, one route per dependency or guard.
 */

export interface AppUser {
  id: string;
  name: string;
  roles: string[];
  suspended?: boolean;
}

export const users = new Map<string, AppUser>([
  ['u-admin', { id: 'u-admin', name: 'Ada', roles: ['admin'] }],
  ['u-user', { id: 'u-user', name: 'Uma', roles: ['user'] }],
  ['u-suspended', { id: 'u-suspended', name: 'Sam', roles: ['user'], suspended: true }],
]);
export const documentOwners = new Map([
  ['d1', 'u-user'],
  ['d2', 'u-admin'],
]);

export const verifier = fakeVerifier({
  'admin-token': { sub: 'u-admin', scope: 'users:read users:write' },
  'user-token': { sub: 'u-user', scope: 'users:read' },
  // The token claims admin, but the loaded user is a plain user: the user wins.
  'claims-admin-token': { sub: 'u-user', roles: ['admin'], scope: 'users:read users:write' },
  // Issuers that put scopes in `scp`: Microsoft Entra ID as a string, Okta as an array.
  'entra-token': { sub: 'u-user', scp: 'users:read users:write' },
  'okta-token': { sub: 'u-user', scp: ['users:read', 42, null, 'users:write'] },
  'okta-partial-token': { sub: 'u-user', scp: ['users:read', { name: 'users:write' }] },
  'split-scopes-token': { sub: 'u-user', scope: 'users:read', scp: ['users:write'] },
  'ghost-token': { sub: 'u-ghost' },
  'suspended-token': { sub: 'u-suspended' },
  'expired-token': new TokenError('ERR_TOKEN_EXPIRED', 'The access token expired.'),
});

export const auth = createAuth({
  verifier,
  loadUser: async (id) => users.get(id),
  isActive: (user) => user.suspended !== true,
  realm: 'example',
  roles: ['admin', 'editor', 'user'],
  roleHierarchy: { admin: ['editor'], editor: ['user'] },
  rolePermissions: { user: ['profile:read'], editor: ['posts:write'], admin: ['users:delete'] },
});
export const cookieAuth = createAuth({ verifier, loadUser: (id) => users.get(id), cookie: 'at' });

const ownerOf = (ctx: Context) => documentOwners.get(ctx.request.params.id ?? '');
const echo = (key: string) => (_ctx: Context, values: Record<string, unknown>) => ({
  body: { user: values[key] ?? null },
});

export const routes: RouteSpec[] = [
  { method: 'GET', path: '/me', dependencies: { user: auth.currentUser }, handler: echo('user') },
  {
    method: 'GET',
    path: '/maybe',
    dependencies: { user: auth.optionalUser },
    handler: echo('user'),
  },
  {
    method: 'GET',
    path: '/admin',
    dependencies: { u: auth.requireRoles('admin') },
    handler: echo('u'),
  },
  {
    method: 'GET',
    path: '/members',
    dependencies: { u: auth.requireRoles('user') },
    handler: echo('u'),
  },
  {
    method: 'GET',
    path: '/posts/new',
    dependencies: { u: auth.requirePermissions('posts:write') },
    handler: echo('u'),
  },
  {
    method: 'GET',
    path: '/scoped',
    dependencies: { u: auth.requireScopes('users:read', 'users:write') },
    handler: echo('u'),
  },
  {
    method: 'GET',
    path: '/docs/:id',
    dependencies: { u: auth.requireOwnership(ownerOf, { overrideRoles: ['admin'] }) },
    handler: echo('u'),
  },
  {
    method: 'GET',
    path: '/hidden/:id',
    dependencies: { u: auth.requireOwnership(ownerOf, { hideExistence: true }) },
    handler: echo('u'),
  },
  {
    method: 'GET',
    path: '/either',
    dependencies: { u: anyOf(auth.requireRoles('admin'), auth.requireScopes('special')) },
    handler: echo('u'),
  },
  {
    method: 'GET',
    path: '/both',
    dependencies: { u: allOf(auth.requireRoles('user'), auth.requireScopes('users:write')) },
    handler: echo('u'),
  },
  {
    method: 'GET',
    path: '/twice',
    dependencies: {
      user: auth.currentUser,
      admin: auth.requireRoles('admin'),
      maybe: auth.optionalUser,
    },
    handler: (ctx) => ({ body: { principal: ctx.principalId ?? null } }),
  },
  {
    method: 'GET',
    path: '/cookie',
    dependencies: { user: cookieAuth.currentUser },
    handler: echo('user'),
  },
];

/** A GET with the given header lines; repeated names become repeated lines, as fetch cannot send. */
export function rawGet(url: string, headers: Record<string, string | string[]>) {
  return new Promise<{
    status: number;
    headers: Record<string, unknown>;
    body: Record<string, unknown>;
  }>((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** Starts the app on `fixture` for the enclosing describe; returns a GET helper. */
export function useAuthApp(fixture: AdapterFixture) {
  let app: RunningApp | undefined;
  beforeAll(async () => {
    app = await fixture.start(createToolkit(), routes);
  });
  afterAll(() => app?.close());
  afterEach(() => {
    verifier.calls.length = 0;
  });
  return {
    url: () => app?.url ?? '',
    get: (path: string, authorization?: string, headers: Record<string, string> = {}) =>
      fetch(`${app?.url}${path}`, {
        headers: authorization === undefined ? headers : { ...headers, authorization },
      }),
  };
}

/** Asserts an RFC 9457 problem with this status and code; returns its body. */
export async function expectProblem(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status, code });
  return body;
}
