import {
  createAccessTokenSigner,
  createAccessTokenVerifier,
  createAuth,
  createKeySet,
  generateSigningKey,
} from '@org/auth';
import { createToolkit } from '@org/core';
import { adapters, type RunningApp } from '@org/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../../test/auth-app.js';
import { manualClock } from '../../test/helpers.js';

const clock = manualClock();
const keySet = createKeySet({ signingKey: await generateSigningKey('ES256') });
const issuer = 'https://issuer.test';
const signer = createAccessTokenSigner({ keySet, issuer, audience: 'api', clock });
// No loadUser: the verified claims are the user, and roles come from the token.
const auth = createAuth({
  verifier: createAccessTokenVerifier({ keySet, issuer, audience: 'api', clock, cache: false }),
});

describe.each(adapters)('createAuth with the real access-token verifier on $name', (fixture) => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await fixture.start(createToolkit(), [
      {
        method: 'GET',
        path: '/me',
        dependencies: { claims: auth.currentUser },
        handler: (_ctx, values) => ({ body: values.claims }),
      },
      {
        method: 'GET',
        path: '/admin',
        dependencies: { admin: auth.requireRoles('admin') },
        handler: () => ({ body: { ok: true } }),
      },
      {
        method: 'GET',
        path: '/posts',
        dependencies: { writer: auth.requireScopes('posts:read', 'posts:write') },
        handler: () => ({ body: { ok: true } }),
      },
    ]);
  });
  afterAll(() => app.close());
  const get = (path: string, token: string) =>
    fetch(`${app.url}${path}`, { headers: { authorization: `Bearer ${token}` } });

  it('admits a signed token and reads its roles', async () => {
    const { token } = await signer.sign({ subject: 'u1', roles: ['admin'] });
    const me = await get('/me', token);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ sub: 'u1', iss: issuer, roles: ['admin'] });
    expect((await get('/admin', token)).status).toBe(200);
    const { token: userToken } = await signer.sign({ subject: 'u2', roles: ['user'] });
    await expectProblem(await get('/admin', userToken), 403, 'ERR_FORBIDDEN');
  });

  it('answers an expired or tampered token with 401 invalid_token', async () => {
    const { token } = await signer.sign({ subject: 'u1', roles: ['user'] });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const forged = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(payload, 'base64url').toString()),
        roles: ['admin'],
      }),
    ).toString('base64url');
    const tampered = await get('/admin', `${header}.${forged}.${signature}`);
    await expectProblem(tampered, 401, 'ERR_TOKEN_INVALID');
    expect(tampered.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="api", error="invalid_token"/,
    );

    clock.advance(16 * 60 * 1000);
    try {
      const expired = await get('/me', token);
      await expectProblem(expired, 401, 'ERR_TOKEN_EXPIRED');
      expect(expired.headers.get('www-authenticate')).toContain('error="invalid_token"');
    } finally {
      clock.advance(-16 * 60 * 1000);
    }
  });

  it('answers a token with a non-canonical signature (pad bits set) with 401 invalid_token', async () => {
    const { token } = await signer.sign({ subject: 'u1', roles: ['admin'] });
    expect((await get('/admin', token)).status).toBe(200);
    // ES256: 86 characters, so the last one carries 4 pad bits that a lenient decoder ignores.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(token.at(-1) as string);
    const altered = `${token.slice(0, -1)}${alphabet[last | 0x01]}`;
    expect(altered).not.toBe(token);
    const response = await get('/admin', altered);
    await expectProblem(response, 401, 'ERR_TOKEN_INVALID');
    expect(response.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="api", error="invalid_token"/,
    );
  });

  it('grants the scopes of scp as Entra ID (string) and Okta (array) send it', async () => {
    for (const scp of ['posts:read posts:write', ['posts:read', 7, 'posts:write']]) {
      const { token } = await signer.sign({ subject: 'u1', claims: { scp } });
      const response = await get('/posts', token);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ ok: true });
    }
    const { token } = await signer.sign({ subject: 'u1', claims: { scp: 'posts:read' } });
    const refused = await get('/posts', token);
    await expectProblem(refused, 403, 'ERR_INSUFFICIENT_SCOPE');
    expect(refused.headers.get('www-authenticate')).toContain('scope="posts:read posts:write"');
  });
});

describe.each(adapters)('createAuth over the verified-token cache on $name', (fixture) => {
  // The cache on (the default): a token seen before is admitted without a promise, and
  // loadUser and isActive still decide every request.
  const active = new Set(['u1']);
  let loads = 0;
  const cached = createAuth({
    verifier: createAccessTokenVerifier({ keySet, issuer, audience: 'api', clock }),
    loadUser: async (id) => {
      loads++;
      return { id, name: `user ${id}` };
    },
    isActive: (user) => active.has(user.id),
  });
  let app: RunningApp;
  beforeAll(async () => {
    app = await fixture.start(createToolkit(), [
      {
        method: 'GET',
        path: '/me',
        dependencies: { user: cached.currentUser },
        handler: (_ctx, values) => ({ body: values.user }),
      },
    ]);
  });
  afterAll(() => app.close());

  it('admits a repeated token from the cache, loading and checking the user each time', async () => {
    const { token } = await signer.sign({ subject: 'u1', roles: ['user'] });
    const get = () => fetch(`${app.url}/me`, { headers: { authorization: `Bearer ${token}` } });
    loads = 0;
    for (let i = 0; i < 3; i++) {
      const response = await get();
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ id: 'u1', name: 'user u1' });
    }
    expect(loads).toBe(3);
    active.delete('u1');
    try {
      await expectProblem(await get(), 401, 'ERR_TOKEN_INVALID');
    } finally {
      active.add('u1');
    }
    // Past exp the cache no longer answers: the token is verified again and refused.
    clock.advance(16 * 60 * 1000);
    try {
      await expectProblem(await get(), 401, 'ERR_TOKEN_EXPIRED');
    } finally {
      clock.advance(-16 * 60 * 1000);
    }
  });
});
