import {
  type ApiKeys,
  createApiKeys,
  createAuth,
  type Principal,
  RedisApiKeyStore,
} from '@org/auth';
import { createToolkit } from '@org/core';
import {
  adapters,
  type RedisServer,
  type RouteSpec,
  type RunningApp,
  startRedis,
} from '@org/test-support';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppUser, expectProblem, rawGet, users, verifier } from './auth-app.js';
import { manualClock } from './helpers.js';

const clock = manualClock();

function appRoutes(apiKeys: ApiKeys): RouteSpec[] {
  const auth = createAuth({
    verifier,
    apiKeys,
    loadUser: async (id) => users.get(id),
    isActive: (user: AppUser) => user.suspended !== true,
    realm: 'example',
    roles: ['admin', 'editor', 'user'],
    roleHierarchy: { admin: ['editor'], editor: ['user'] },
  });
  const describePrincipal = (_ctx: unknown, values: Record<string, unknown>) => {
    const principal = values.p as Principal<AppUser>;
    return {
      body: {
        id: principal.id,
        name: principal.user.name,
        via: principal.apiKey === undefined ? 'token' : 'key',
        key: principal.apiKey?.name ?? null,
        roles: [...principal.roles].sort(),
        scopes: [...principal.scopes].sort(),
      },
    };
  };
  return [
    { method: 'GET', path: '/me', dependencies: { p: auth.principal }, handler: describePrincipal },
    {
      method: 'GET',
      path: '/key-only',
      dependencies: { p: auth.apiKey },
      handler: describePrincipal,
    },
    {
      method: 'GET',
      path: '/admin',
      dependencies: { u: auth.requireRoles('admin') },
      handler: (_ctx, values) => ({ body: { name: (values.u as AppUser).name } }),
    },
    {
      method: 'GET',
      path: '/deploy',
      dependencies: { u: auth.requireScopes('deploy') },
      handler: (_ctx, values) => ({ body: { name: (values.u as AppUser).name } }),
    },
  ];
}

let redis: RedisServer;
let client: Redis;

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url, { maxRetriesPerRequest: 1, commandTimeout: 1000 });
  client.on('error', () => {});
});
afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

describe.each(adapters)('API keys over HTTP on $name', (fixture) => {
  // Two instances of the service: each its own manager, one Redis store between them.
  let one: ApiKeys;
  let two: ApiKeys;
  let appOne: RunningApp;
  let appTwo: RunningApp;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    const prefix = `http-${fixture.name}:`;
    one = createApiKeys({ store: new RedisApiKeyStore({ client, prefix }), clock });
    two = createApiKeys({ store: new RedisApiKeyStore({ client, prefix }), clock });
    appOne = await fixture.start(createToolkit(), appRoutes(one));
    appTwo = await fixture.start(createToolkit(), appRoutes(two));
    keys.user = (
      await one.create({ owner: 'u-user', name: 'cli', scopes: ['read'], roles: ['user'] })
    ).key;
    keys.deploy = (await one.create({ owner: 'u-user', name: 'ci', scopes: ['deploy'] })).key;
    keys.admin = (await one.create({ owner: 'u-admin', name: 'ops', roles: ['admin'] })).key;
    keys.noRoles = (await one.create({ owner: 'u-admin', name: 'plain' })).key;
    keys.adminAsUser = (await one.create({ owner: 'u-admin', name: 'ro', roles: ['user'] })).key;
    keys.userAsAdmin = (await one.create({ owner: 'u-user', name: 'sly', roles: ['admin'] })).key;
  });
  afterAll(async () => {
    await appOne?.close();
    await appTwo?.close();
  });

  const get = (app: RunningApp, path: string, headers: Record<string, string> = {}) =>
    fetch(`${app.url}${path}`, { headers });

  it('admits a key from X-API-Key or Authorization: Bearer as its owner, with its scopes', async () => {
    for (const headers of [
      { 'x-api-key': keys.user as string },
      { authorization: `Bearer ${keys.user}` },
    ]) {
      const response = await get(appOne, '/me', headers);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        id: 'u-user',
        name: 'Uma',
        via: 'key',
        key: 'cli',
        roles: ['user'],
        scopes: ['read'],
      });
    }
  });

  it('still sends a JWT in the same header to the token path', async () => {
    const response = await get(appOne, '/me', { authorization: 'Bearer user-token' });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: 'u-user', via: 'token', key: null });
  });

  it('runs requireScopes and requireRoles unchanged on a key, roles bounded by the owner', async () => {
    expect((await get(appOne, '/deploy', { 'x-api-key': keys.deploy as string })).status).toBe(200);
    const noScope = await get(appOne, '/deploy', { 'x-api-key': keys.user as string });
    await expectProblem(noScope, 403, 'ERR_INSUFFICIENT_SCOPE');
    expect(noScope.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);

    const admin = await get(appOne, '/admin', { authorization: `Bearer ${keys.admin}` });
    expect(admin.status).toBe(200);
    expect(await admin.json()).toEqual({ name: 'Ada' });
    // A key limited to `user` cannot act as its admin owner...
    expect((await get(appOne, '/admin', { 'x-api-key': keys.adminAsUser as string })).status).toBe(
      403,
    );
    // ...and a key cannot hold a role its owner lacks.
    expect((await get(appOne, '/admin', { 'x-api-key': keys.userAsAdmin as string })).status).toBe(
      403,
    );
    const bounded = await get(appOne, '/me', { 'x-api-key': keys.userAsAdmin as string });
    expect(await bounded.json()).toMatchObject({ roles: [] });
    // A key made without roles has none, whoever owns it (least privilege).
    expect((await get(appOne, '/admin', { 'x-api-key': keys.noRoles as string })).status).toBe(403);
    const plain = await get(appOne, '/me', { 'x-api-key': keys.noRoles as string });
    expect(await plain.json()).toMatchObject({ id: 'u-admin', roles: [] });
  });

  it('offers a key-only dependency that refuses an access token', async () => {
    const ok = await get(appOne, '/key-only', { 'x-api-key': keys.user as string });
    expect(ok.status).toBe(200);
    const token = await get(appOne, '/key-only', { authorization: 'Bearer user-token' });
    await expectProblem(token, 401, 'ERR_TOKEN_MISSING');
    expect(token.headers.get('www-authenticate')).toBe('Bearer realm="example"');
  });

  it('answers a malformed key with a 401 invalid_token problem that never echoes it', async () => {
    const typo = `${(keys.user as string).slice(0, -1)}${(keys.user as string).endsWith('a') ? 'b' : 'a'}`;
    for (const headers of [{ 'x-api-key': typo }, { authorization: `Bearer ${typo}` }]) {
      const response = await get(appOne, '/me', headers);
      const text = JSON.stringify(await expectProblem(response, 401, 'ERR_API_KEY_MALFORMED'));
      expect(response.headers.get('www-authenticate')).toMatch(
        /^Bearer realm="example", error="invalid_token"/,
      );
      expect(text).not.toContain(typo.slice(21, 57));
      expect(response.headers.get('www-authenticate')).not.toContain(typo.slice(21, 57));
    }
  });

  it('refuses two credentials and two key headers with a 400', async () => {
    const both = await get(appOne, '/me', {
      'x-api-key': keys.user as string,
      authorization: 'Bearer user-token',
    });
    expect(both.status).toBe(400);
    const twice = await rawGet(`${appOne.url}/me`, {
      'x-api-key': [keys.user as string, keys.user as string],
    });
    expect(twice.status).toBe(400);
  });

  it('refuses a key revoked on another instance at once, and an expired key', async () => {
    const { key, record } = await two.create({ owner: 'u-user', name: 'temp', expiresIn: 60 });
    expect((await get(appOne, '/me', { 'x-api-key': key })).status).toBe(200);
    expect((await get(appTwo, '/me', { 'x-api-key': key })).status).toBe(200);
    expect(await two.revoke(record.id)).toBe(true);
    for (const app of [appOne, appTwo]) {
      const response = await get(app, '/me', { 'x-api-key': key });
      await expectProblem(response, 401, 'ERR_API_KEY_REVOKED');
      expect(response.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    }

    const short = await one.create({ owner: 'u-user', name: 'short', expiresIn: 1 });
    clock.advance(1000);
    await expectProblem(
      await get(appTwo, '/me', { authorization: `Bearer ${short.key}` }),
      401,
      'ERR_API_KEY_EXPIRED',
    );
  });
});
