// What the FastAPI guide's dependency_overrides snippet takes as given: the toolkit and
// auth of an app, a users dependency, a fake admin, and the in-memory stand-in for the
// repository with its fixtures. Run by vitest (the snippet's `using`): the test below runs
// after the snippet, and checks that every override it made is gone.
import { createAccessTokenVerifier, createAuth, createKeySet, generateSigningKey } from '@org/auth';
import { createToolkit, defineDependency } from '@org/core';
import { createNodeAdapter } from '@org/core/node';
import { createRequester } from '@org/testing';
import { expect, it } from 'vitest';
import { ann, InMemoryUsers, pool, UserRepository } from '../preludes/fastapi-users.ts';

const keySet = createKeySet({ signingKey: await generateSigningKey('ES256') });
const auth = createAuth({
  verifier: createAccessTokenVerifier({
    keySet,
    issuer: 'https://api.example.com',
    audience: 'api',
  }),
});
const toolkit = createToolkit();
const userRepository = defineDependency({
  name: 'users',
  resolve: async () => new UserRepository(await pool.connect()),
});
const fakeAdmin = {
  iss: 'https://api.example.com',
  aud: 'api',
  sub: '1',
  iat: 0,
  exp: 0,
  jti: 'j1',
  roles: ['admin'],
};
const fixtures = [{ ...ann, id: 7, name: 'Fixture' }];

const app = createNodeAdapter(toolkit);
app.get('/me', { user: auth.currentUser }, (_ctx, { user }) => ({ body: user }));
app.get('/users/1', { users: userRepository }, async (_ctx, { users }) => ({
  body: await users.findById(1),
}));

it('has put back every dependency the snippet overrode', async () => {
  await using api = createRequester(app);
  expect((await api.get('/me')).status).toBe(401); // auth.currentUser: cleared
  expect((await api.get('/users/1')).body).toMatchObject({ name: 'Ann' }); // the repository: restored
});

export { auth, fakeAdmin, fixtures, InMemoryUsers, toolkit, userRepository };
