import { createToolkit, defineDependency, type Toolkit, UnauthorizedError } from '@org/core';
import { adapters, type RunningApp } from '@org/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequester, type Requester } from '../requests/requester.js';
import { overrideDependency, withOverrides } from './overrides.js';

interface User {
  id: string;
  name: string;
}

const currentUser = defineDependency<User>({
  name: 'currentUser',
  resolve: () => {
    throw new UnauthorizedError({ detail: 'Sign in first.' });
  },
});
const users = defineDependency({ name: 'users', resolve: () => ['real-1', 'real-2'] });
const greeting = defineDependency({
  name: 'greeting',
  inject: { user: currentUser },
  resolve: (_ctx, { user }) => `hello ${user.name}`,
});

describe.each(adapters)('overrides on $name', (fixture) => {
  let toolkit: Toolkit;
  let app: RunningApp;
  let api: Requester;
  beforeAll(async () => {
    toolkit = createToolkit();
    app = await fixture.start(toolkit, [
      {
        method: 'GET',
        path: '/me',
        dependencies: { user: currentUser, greeting },
        handler: (_ctx, { user, greeting }) => ({ body: { user, greeting } }),
      },
      {
        method: 'GET',
        path: '/users',
        dependencies: { users },
        handler: (_ctx, values) => ({ body: values.users }),
      },
    ]);
    api = createRequester(app.url);
  });
  afterAll(async () => {
    await api.close();
    await app.close();
  });

  it('is a 401 without an override', async () => {
    const res = await api.get('/me');
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('overrideDependency replaces a dependency everywhere it is injected, until disposed', async () => {
    {
      using _ = overrideDependency(toolkit, currentUser, () => ({ id: 'u1', name: 'Ann' }));
      const res = await api.get('/me');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ user: { id: 'u1', name: 'Ann' }, greeting: 'hello Ann' });
    }
    expect((await api.get('/me')).status).toBe(401);
  });

  it('withOverrides applies several for a block and restores them when it throws', async () => {
    const admin: User = { id: 'a1', name: 'Root' };
    const seen = await withOverrides(
      toolkit,
      [
        [currentUser, () => admin],
        [users, () => ['fixture-1']],
      ],
      async () => ({ me: await api.get('/me'), list: await api.get('/users') }),
    );
    expect(seen.me.body).toMatchObject({ user: admin });
    expect(seen.list.body).toEqual(['fixture-1']);
    await expect(
      withOverrides(toolkit, [[users, () => ['x']]], () => {
        throw new Error('test failed inside');
      }),
    ).rejects.toThrow('test failed inside');
    expect((await api.get('/users')).body).toEqual(['real-1', 'real-2']);
    expect((await api.get('/me')).status).toBe(401);
  });

  it('nests: the inner override wins, the outer one comes back', async () => {
    const outer = overrideDependency(toolkit, users, () => ['outer']);
    const inner = overrideDependency(toolkit, users, () => ['inner']);
    expect((await api.get('/users')).body).toEqual(['inner']);
    inner.restore();
    inner.restore();
    expect((await api.get('/users')).body).toEqual(['outer']);
    outer[Symbol.dispose]();
    expect((await api.get('/users')).body).toEqual(['real-1', 'real-2']);
  });
});
