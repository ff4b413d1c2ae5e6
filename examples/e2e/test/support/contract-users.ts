import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import {
  expectNoStore,
  expectProblem,
  expectRateLimitHeaders,
  expectStandardHeaders,
  expectUser,
} from './assertions.ts';
import type { ContractContext } from './suite.ts';

/** The caller's profile, administration, mass assignment and path tricks on the admin routes. */
export function usersContract(get: () => ContractContext): void {
  it('GET /users/me: 200 the user with a valid token', async () => {
    const { api, reader: user } = get();
    const me = await api.get('/api/v1/users/me', { token: user.access_token });
    expect(me.status).toBe(200);
    expectUser(me.body, { id: user.id, email: user.email, roles: ['user'] });
    expectStandardHeaders(me);
    expectRateLimitHeaders(me);
    expectNoStore(me);
  });

  it('GET /users/me: 401 + WWW-Authenticate for no token and for every bad token', async () => {
    const { api, tokens } = get();
    const none = await api.get('/api/v1/users/me');
    expectProblem(none, 401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer realm="api"/);
    const valid = await tokens.accessToken({ subject: randomUUID() });
    const bad = {
      garbage: 'not.a.token',
      expired: await tokens.forge('expired'),
      'wrong audience': await tokens.forge('wrong-audience'),
      'alg none': await tokens.forge('alg-none'),
      tampered: await tokens.forge('tampered-payload'),
      'unknown user': valid,
    };
    for (const [what, token] of Object.entries(bad)) {
      const response = await api.get('/api/v1/users/me', { token });
      expectProblem(response, 401);
      expect(response.headers['www-authenticate'], what).toMatch(
        /^Bearer realm="api", error="invalid_token"/,
      );
    }
  });

  it('PATCH /users/me: 200 with the new name', async () => {
    const { api, mint } = get();
    const user = await api.register('patch');
    const token = await mint(user);
    const response = await api.patch('/api/v1/users/me', { token, json: { name: 'Grace Hopper' } });
    expect(response.status, response.text).toBe(200);
    expectUser(response.body, { id: user.id, name: 'Grace Hopper', roles: ['user'] });
    expect((await api.get('/api/v1/users/me', { token })).body).toMatchObject({
      name: 'Grace Hopper',
    });
  });

  it('PATCH /users/me: mass assignment (role, roles, is_superuser, __proto__, constructor.prototype) changes nothing', async () => {
    const { api, mint } = get();
    const user = await api.register('mass');
    const token = await mint(user);
    const attempts = [
      '{"name":"Mallory","role":"admin"}',
      '{"name":"Mallory","roles":["admin"]}',
      '{"name":"Mallory","is_superuser":true,"is_active":true}',
      '{"name":"Mallory","__proto__":{"roles":["admin"],"is_superuser":true}}',
      '{"name":"Mallory","constructor":{"prototype":{"roles":["admin"]}}}',
      '{"name":"Mallory","constructor.prototype":{"roles":["admin"]}}',
    ];
    for (const body of attempts) {
      const response = await api.patch('/api/v1/users/me', {
        token,
        headers: { 'content-type': 'application/json' },
        body,
      });
      // Either refused (422: unknown member) or applied to the name only.
      expect([200, 422], body).toContain(response.status);
      if (response.status === 200) expectUser(response.body, { roles: ['user'] });
      else expectProblem(response, 422, 'ERR_VALIDATION');
    }
    const me = await api.get('/api/v1/users/me', { token });
    expectUser(me.body, { roles: ['user'] });
    expect(me.body).not.toHaveProperty('is_superuser');
    // A fresh login (roles re-read from the database) is still not an admin...
    const again = await api.login(user.email, user.password);
    expect((await api.get('/api/v1/users', { token: again.access_token })).status).toBe(403);
    // ...and no prototype was polluted: a brand-new user is a plain user too.
    const fresh = await mint(await api.register('fresh'));
    expectUser((await api.get('/api/v1/users/me', { token: fresh })).body, { roles: ['user'] });
  });

  it('GET /users: 200 a page for an admin; limit and offset; limit over 100 is 422', async () => {
    const { api, adminToken: token } = get();
    await api.register('page');
    await api.register('page');
    const first = await api.get('/api/v1/users?limit=1&offset=0', { token });
    expect(first.status, first.text).toBe(200);
    const page = first.body as { items: unknown[]; total: number; limit: number; offset: number };
    expect(page).toMatchObject({ limit: 1, offset: 0 });
    expect(page.items).toHaveLength(1);
    expect(page.total).toBeGreaterThanOrEqual(3);
    for (const item of page.items) expectUser(item);
    const second = (await api.get('/api/v1/users?limit=1&offset=1', { token })).body as typeof page;
    expect(second.items[0]).not.toEqual(page.items[0]);
    const all = (await api.get('/api/v1/users', { token })).body as typeof page;
    expect(all.limit).toBe(20);
    expectProblem(await api.get('/api/v1/users?limit=101', { token }), 422, 'ERR_VALIDATION');
    expectProblem(await api.get('/api/v1/users?limit=-1', { token }), 422, 'ERR_VALIDATION');
  });

  it('GET /users: 401 without a token, 403 for a non-admin', async () => {
    const { api, reader: user } = get();
    expectProblem(await api.get('/api/v1/users'), 401);
    const forbidden = await api.get('/api/v1/users', { token: user.access_token });
    expectProblem(forbidden, 403, 'ERR_FORBIDDEN');
    expect(forbidden.headers['www-authenticate'] ?? '').not.toMatch(/invalid_token/);
    // The guard runs before validation: a non-admin learns nothing about the query rules.
    expectProblem(await api.get('/api/v1/users?limit=500', { token: user.access_token }), 403);
  });

  it('non-admins never get data through path variants or a method override', async () => {
    const { api, reader: user } = get();
    const variants: [string, string, Record<string, string>][] = [
      ['GET', '/API/V1/USERS', {}],
      ['GET', '/Api/v1/Users', {}],
      ['GET', '//api/v1/users', {}],
      ['GET', '/api/v1//users', {}],
      ['GET', '/api/v1/users/', {}],
      ['GET', '/api/v1/users?', {}],
      ['GET', '/api/v1/./users', {}],
      ['GET', '/api/v1/users%2F', {}],
      ['GET', '/api/v1/%75sers', {}],
      ['POST', '/api/v1/users', { 'x-http-method-override': 'GET' }],
      ['POST', '/api/v1/users', { 'x-http-method': 'GET', 'x-method-override': 'GET' }],
      ['GET', '/api/v1/users/me', { 'x-http-method-override': 'DELETE' }],
    ];
    for (const [method, path, headers] of variants) {
      const response = await api.request(method, path, { token: user.access_token, headers });
      const label = `${method} ${path} ${JSON.stringify(headers)}`;
      if (path === '/api/v1/users/me') {
        // The override is ignored: this is a plain GET of the caller's own profile.
        expect(response.status, label).toBe(200);
        continue;
      }
      expect([400, 401, 403, 404, 405], label).toContain(response.status);
      expectProblem(response, response.status);
      expect(response.text, label).not.toMatch(/"items"|"email"/);
    }
  });

  it('DELETE /users/:id: 204 for an admin, then 404; 403 for a non-admin; their tokens die', async () => {
    const { api, reader, adminToken: token } = get();
    const victim = await api.signUp('victim');
    const forbidden = await api.delete(`/api/v1/users/${victim.id}`, {
      token: reader.access_token,
    });
    expectProblem(forbidden, 403, 'ERR_FORBIDDEN');
    const deleted = await api.delete(`/api/v1/users/${victim.id}`, { token });
    expect(deleted.status, deleted.text).toBe(204);
    expect(deleted.text).toBe('');
    expectStandardHeaders(deleted);
    const gone = await api.delete(`/api/v1/users/${victim.id}`, { token });
    expectProblem(gone, 404, 'ERR_NOT_FOUND');
    expectNoStore(gone);
    expectProblem(await api.delete(`/api/v1/users/${randomUUID()}`, { token }), 404);
    // The deleted user's access token and session no longer work.
    expectProblem(await api.get('/api/v1/users/me', { token: victim.access_token }), 401);
    const refresh = await api.post('/api/v1/auth/refresh', {
      json: { refresh_token: victim.refresh_token },
    });
    expectProblem(refresh, 401);
  });
}
