import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createAuth } from '@org/auth';
import { type AuthOutcomeEvent, ConfigurationError } from '@org/core';
import { adapters } from '@org/test-support';
import { describe, expect, it } from 'vitest';
import { expectProblem, rawGet, useAuthApp, users, verifier } from '../../test/auth-app.js';

describe.each(adapters)('authentication on $name', (fixture) => {
  const { get, url } = useAuthApp(fixture);

  it('answers a request without a token with 401 and only the realm in the challenge', async () => {
    const response = await get('/me');
    await expectProblem(response, 401, 'ERR_TOKEN_MISSING');
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="example"');
  });

  it('answers a bad token with 401 invalid_token and a description', async () => {
    const response = await get('/me', 'Bearer garbage');
    await expectProblem(response, 401, 'ERR_TOKEN_INVALID');
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="example", error="invalid_token", error_description="The access token is invalid."',
    );
    const expired = await get('/me', 'Bearer expired-token');
    await expectProblem(expired, 401, 'ERR_TOKEN_EXPIRED');
    expect(expired.headers.get('www-authenticate')).toBe(
      'Bearer realm="example", error="invalid_token", error_description="The access token expired."',
    );
  });

  it('accepts the Bearer scheme in any case and resolves the loaded user', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const response = await get('/me', `${scheme} user-token`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ user: users.get('u-user') });
    }
  });

  it('answers two Authorization headers with a 400 problem', async () => {
    const response = await rawGet(`${url()}/me`, {
      authorization: ['Bearer user-token', 'Bearer admin-token'],
    });
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.body).toMatchObject({ status: 400, code: 'ERR_AUTHORIZATION_MALFORMED' });
    expect(response.headers['www-authenticate']).toMatch(
      /^Bearer realm="example", error="invalid_request"/,
    );
    expect(verifier.calls).toEqual([]);
  });

  it('tells a malformed request (400) from a malformed token (401) and another scheme (realm only)', async () => {
    await expectProblem(await get('/me', 'Bearer'), 400, 'ERR_AUTHORIZATION_MALFORMED');
    await expectProblem(
      await get('/me', 'Bearer user-token extra'),
      400,
      'ERR_AUTHORIZATION_MALFORMED',
    );
    const token = await get('/me', 'Bearer user%token');
    await expectProblem(token, 401, 'ERR_TOKEN_INVALID');
    expect(token.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const basic = await get('/me', 'Basic dXNlcjpwYXNz');
    await expectProblem(basic, 401, 'ERR_TOKEN_MISSING');
    expect(basic.headers.get('www-authenticate')).toBe('Bearer realm="example"');
    expect(verifier.calls).toEqual([]);
  });

  it('never reads a token from the query string', async () => {
    await expectProblem(await get('/me?access_token=user-token'), 401, 'ERR_TOKEN_MISSING');
    expect(verifier.calls).toEqual([]);
  });

  it('answers 401 when the user is gone or suspended', async () => {
    for (const token of ['ghost-token', 'suspended-token']) {
      const response = await get('/me', `Bearer ${token}`);
      await expectProblem(response, 401, 'ERR_TOKEN_INVALID');
      expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
    }
  });

  it('optionalUser: undefined without a token, the user with one, 401 with a bad one', async () => {
    expect(await (await get('/maybe')).json()).toEqual({ user: null });
    expect(await (await get('/maybe', 'Bearer admin-token')).json()).toEqual({
      user: users.get('u-admin'),
    });
    await expectProblem(await get('/maybe', 'Bearer garbage'), 401, 'ERR_TOKEN_INVALID');
  });

  it('verifies once per request however many dependencies ask, and sets the principal id', async () => {
    const response = await get('/twice', 'Bearer admin-token');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ principal: 'u-admin' });
    expect(verifier.calls).toEqual(['admin-token']);
  });

  it('reads a named cookie when there is no Authorization header, the header first', async () => {
    const viaCookie = await get('/cookie', undefined, { cookie: 'other=1; at=user-token' });
    expect(await viaCookie.json()).toEqual({ user: users.get('u-user') });
    const both = await get('/cookie', 'Bearer admin-token', { cookie: 'at=user-token' });
    expect(await both.json()).toEqual({ user: users.get('u-admin') });
    await expectProblem(await get('/cookie'), 401, 'ERR_TOKEN_MISSING');
  });

  it('publishes each authentication outcome on the auth channel', async () => {
    const outcomes: string[] = [];
    const listener = (message: unknown) => outcomes.push((message as AuthOutcomeEvent).outcome);
    subscribe('org.auth.outcome', listener);
    try {
      await get('/me');
      await get('/me', 'Bearer expired-token');
      await get('/me', 'Bearer user-token');
    } finally {
      unsubscribe('org.auth.outcome', listener);
    }
    expect(outcomes).toEqual(['ERR_TOKEN_MISSING', 'ERR_TOKEN_EXPIRED', 'success']);
  });
});

describe('createAuth configuration', () => {
  it('refuses mistakes at start-up with a message naming the option', () => {
    expect(() =>
      createAuth({ verifier, roleHierarchy: { admin: ['user'], user: ['admin'] } }),
    ).toThrow(/roleHierarchy has a cycle: (admin -> user -> admin|user -> admin -> user)/);
    expect(() => createAuth({ verifier, realm: 'say "hi"' })).toThrow(ConfigurationError);
    expect(() => createAuth({ verifier, cookie: 'bad name' })).toThrow(/cookie/);
    expect(() => createAuth({ verifier: undefined as never })).toThrow(/verifier/);
    const declared = createAuth({ verifier, roles: ['admin', 'user'] });
    expect(() => declared.requireRoles('root' as 'admin')).toThrow(/"root" is not in the roles/);
    expect(() => declared.requireScopes('bad scope')).toThrow(ConfigurationError);
    expect(() =>
      createAuth({ verifier, roles: ['admin'], roleHierarchy: { admin: ['user' as 'admin'] } }),
    ).toThrow(/Role "user"/);
  });
});
