import { loginCredentials } from '@org/auth';
import { createToolkit } from '@org/core';
import { adapters, type RouteSpec, type RunningApp } from '@org/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const routes: RouteSpec[] = [
  {
    method: 'POST',
    path: '/login',
    dependencies: { credentials: loginCredentials() },
    handler: (_ctx, values) => ({ body: values.credentials }),
  },
  {
    method: 'POST',
    path: '/strict',
    dependencies: {
      credentials: loginCredentials({ requireGrantType: true, maxPasswordLength: 16 }),
    },
    handler: (_ctx, values) => ({ body: values.credentials }),
  },
];

describe.each(adapters)('loginCredentials on $name', (fixture) => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await fixture.start(createToolkit(), routes);
  });
  afterAll(() => app.close());

  const form = (path: string, fields: Record<string, string>) =>
    fetch(`${app.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  const json = (path: string, body: unknown) =>
    fetch(`${app.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('reads the OAuth2 password form (RFC 6749 section 4.3.2)', async () => {
    const response = await form('/login', {
      grant_type: 'password',
      username: 'ada@example.test',
      password: ' secret with spaces ',
      scope: 'users:read  users:write',
      client_id: 'ignored',
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      username: 'ada@example.test',
      password: ' secret with spaces ',
      scopes: ['users:read', 'users:write'],
    });
  });

  it('reads JSON {email, password} into the same shape', async () => {
    const response = await json('/login', { email: 'ada@example.test', password: 'pw' });
    expect(await response.json()).toEqual({
      username: 'ada@example.test',
      password: 'pw',
      scopes: [],
    });
  });

  it('answers 422 with a pointer per failed rule', async () => {
    const response = await json('/login', { password: '' });
    expect(response.status).toBe(422);
    const body = (await response.json()) as { code: string; errors: { pointer: string }[] };
    expect(body.code).toBe('ERR_VALIDATION');
    expect(body.errors.map((e) => e.pointer).sort()).toEqual(['/password', '/username']);
    const wrongGrant = await form('/login', {
      grant_type: 'client_credentials',
      username: 'a',
      password: 'b',
    });
    expect(wrongGrant.status).toBe(422);
    const both = await json('/login', { email: 'a', username: 'b', password: 'c' });
    expect(both.status).toBe(422);
  });

  it('can require grant_type and cap the password length', async () => {
    expect((await form('/strict', { username: 'a', password: 'b' })).status).toBe(422);
    expect(
      (await form('/strict', { grant_type: 'password', username: 'a', password: 'b' })).status,
    ).toBe(200);
    const long = await form('/strict', {
      grant_type: 'password',
      username: 'a',
      password: 'x'.repeat(17),
    });
    expect(long.status).toBe(422);
    expect(JSON.stringify(await long.json())).not.toContain('x'.repeat(17));
  });
});
