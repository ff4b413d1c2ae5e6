import { adapters } from '@org/test-support';
import { describe, expect, it } from 'vitest';
import { expectProblem, useAuthApp } from '../../test/auth-app.js';

describe.each(adapters)('guards on $name', (fixture) => {
  const { get } = useAuthApp(fixture);

  it('guards answer 401 without a token and 403 without the role', async () => {
    await expectProblem(await get('/admin'), 401, 'ERR_TOKEN_MISSING');
    const forbidden = await get('/admin', 'Bearer user-token');
    await expectProblem(forbidden, 403, 'ERR_FORBIDDEN');
    expect(forbidden.headers.get('www-authenticate')).toBeNull();
    expect((await get('/admin', 'Bearer admin-token')).status).toBe(200);
  });

  it('applies role inheritance to roles and permissions', async () => {
    expect((await get('/members', 'Bearer admin-token')).status).toBe(200);
    expect((await get('/posts/new', 'Bearer admin-token')).status).toBe(200);
    await expectProblem(await get('/posts/new', 'Bearer user-token'), 403, 'ERR_FORBIDDEN');
  });

  it('takes roles from the loaded user, never from the request', async () => {
    await expectProblem(await get('/admin', 'Bearer claims-admin-token'), 403, 'ERR_FORBIDDEN');
    const spoofed = await get('/admin?role=admin&roles=admin', 'Bearer user-token', {
      'x-roles': 'admin',
      'x-user-role': 'admin',
      cookie: 'roles=admin',
    });
    await expectProblem(spoofed, 403, 'ERR_FORBIDDEN');
  });

  it('answers a missing scope with 403 insufficient_scope naming the scopes', async () => {
    const response = await get('/scoped', 'Bearer user-token');
    await expectProblem(response, 403, 'ERR_INSUFFICIENT_SCOPE');
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="example", error="insufficient_scope", error_description="The access token lacks a required scope.", scope="users:read users:write"',
    );
    expect((await get('/scoped', 'Bearer admin-token')).status).toBe(200);
  });

  it('grants the scopes of an scp claim, as a string (Entra ID) or an array (Okta)', async () => {
    for (const token of ['entra-token', 'okta-token', 'split-scopes-token']) {
      const response = await get('/scoped', `Bearer ${token}`);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ user: { id: 'u-user' } });
    }
    // Entries that are not strings grant nothing.
    const partial = await get('/scoped', 'Bearer okta-partial-token');
    await expectProblem(partial, 403, 'ERR_INSUFFICIENT_SCOPE');
    expect(partial.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });

  it('ownership: owner passes, others get 403, an override role passes, unknown is 404', async () => {
    expect((await get('/docs/d1', 'Bearer user-token')).status).toBe(200);
    await expectProblem(await get('/docs/d2', 'Bearer user-token'), 403, 'ERR_FORBIDDEN');
    expect((await get('/docs/d1', 'Bearer admin-token')).status).toBe(200);
    await expectProblem(await get('/docs/nope', 'Bearer user-token'), 404, 'ERR_NOT_FOUND');
  });

  it('ownership with hideExistence: a non-owner sees the same 404 as for a missing resource', async () => {
    const hidden = await expectProblem(
      await get('/hidden/d2', 'Bearer user-token'),
      404,
      'ERR_NOT_FOUND',
    );
    const missing = await expectProblem(
      await get('/hidden/nope', 'Bearer user-token'),
      404,
      'ERR_NOT_FOUND',
    );
    const { request_id: _a, ...a } = hidden;
    const { request_id: _b, ...b } = missing;
    expect(a).toEqual(b);
  });

  it('combines guards with anyOf and allOf', async () => {
    expect((await get('/either', 'Bearer admin-token')).status).toBe(200);
    await expectProblem(await get('/either', 'Bearer user-token'), 403, 'ERR_FORBIDDEN');
    await expectProblem(await get('/either'), 401, 'ERR_TOKEN_MISSING');
    expect((await get('/both', 'Bearer admin-token')).status).toBe(200);
    await expectProblem(await get('/both', 'Bearer user-token'), 403, 'ERR_INSUFFICIENT_SCOPE');
  });
});
