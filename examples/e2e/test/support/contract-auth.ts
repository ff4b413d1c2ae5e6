import { expect, it } from 'vitest';
import {
  expectNoStore,
  expectProblem,
  expectRateLimitHeaders,
  expectStandardHeaders,
  expectUser,
} from './assertions.ts';
import { type HttpResponse, type TokenPair, uniqueEmail } from './http.ts';
import type { ContractContext } from './suite.ts';

const PASSWORD = 'correct horse battery staple';

function expectTokenPair(response: HttpResponse): TokenPair {
  expect(response.status, response.text).toBe(200);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expectNoStore(response);
  expectStandardHeaders(response);
  expectRateLimitHeaders(response);
  const body = response.body as TokenPair;
  expect(Object.keys(body).sort()).toEqual(
    ['access_token', 'expires_in', 'refresh_token', 'token_type'].sort(),
  );
  expect(body.token_type).toBe('bearer');
  expect(body.expires_in).toBeGreaterThan(0);
  expect(body.access_token.split('.')).toHaveLength(3);
  return body;
}

/** Register, login (JSON and OAuth2 form), brute force, refresh rotation and replay, logout. */
export function authContract(get: () => ContractContext): void {
  it('register: 201 with the user and never the hash; 409 for a taken email', async () => {
    const { api } = get();
    const email = uniqueEmail('reg');
    const created = await api.post('/api/v1/auth/register', {
      json: { email: email.toUpperCase(), password: PASSWORD, name: 'Ann' },
    });
    expect(created.status, created.text).toBe(201);
    expectUser(created.body, { email, name: 'Ann', roles: ['user'] });
    expectNoStore(created);
    expectStandardHeaders(created);
    const again = await api.post('/api/v1/auth/register', { json: { email, password: PASSWORD } });
    expectProblem(again, 409, 'ERR_EMAIL_TAKEN');
  });

  it('register: 422 with errors[] for bad input, unknown members included', async () => {
    const { api } = get();
    const response = await api.post('/api/v1/auth/register', {
      json: { email: 'not-an-email', password: 'short', roles: ['admin'] },
    });
    expectProblem(response, 422, 'ERR_VALIDATION');
    const errors = (response.body as { errors: { pointer: string; location: string }[] }).errors;
    expect(errors.map((e) => e.pointer).sort()).toEqual(
      expect.arrayContaining(['/email', '/password']),
    );
    expect(errors.every((e) => e.location === 'body')).toBe(true);
    expect(response.text).toMatch(/roles/);
  });

  it('login: JSON and the OAuth2 password form both answer a token pair with no-store', async () => {
    const { api } = get();
    const user = await api.signUp('login');
    expectTokenPair(
      await api.post('/api/v1/auth/login', { json: { email: user.email, password: PASSWORD } }),
    );
    expectTokenPair(
      await api.post('/api/v1/auth/login', {
        form: { grant_type: 'password', username: user.email, password: PASSWORD },
      }),
    );
  });

  it('login: 401 identical for an unknown user and a wrong password', async () => {
    const { api } = get();
    const user = await api.signUp('ident');
    const unknown = await api.post('/api/v1/auth/login', {
      json: { email: uniqueEmail('nobody'), password: PASSWORD },
    });
    const wrong = await api.post('/api/v1/auth/login', {
      json: { email: user.email, password: `${PASSWORD}!` },
    });
    for (const response of [unknown, wrong]) {
      expectProblem(response, 401, 'ERR_INVALID_CREDENTIALS');
      expectNoStore(response);
    }
    const strip = (r: HttpResponse) => {
      const { request_id: _id, ...body } = r.body as Record<string, unknown>;
      const { 'x-request-id': _h, date: _d, ratelimit: _r, ...headers } = r.headers;
      return { body, headers };
    };
    expect(strip(wrong)).toEqual(strip(unknown));
  });

  it('login: after 5 failures for one account from one IP, even the right password is 429 + Retry-After', async () => {
    const { api } = get();
    const user = await api.signUp('brute');
    for (let attempt = 1; attempt <= 5; attempt++) {
      const failed = await api.post('/api/v1/auth/login', {
        json: { email: user.email, password: `wrong password ${attempt}` },
      });
      expectProblem(failed, 401);
    }
    const blocked = await api.post('/api/v1/auth/login', {
      json: { email: user.email, password: PASSWORD },
    });
    expectProblem(blocked, 429, 'ERR_LOGIN_BLOCKED');
    const retryAfter = Number(blocked.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    // Another account from the same client is not affected.
    const { admin } = get();
    expect((await api.login(admin.email, admin.password)).access_token).toBeTruthy();
  });

  it('refresh: a new pair; the old token is spent, and replaying it revokes the whole family', async () => {
    const { api } = get();
    const user = await api.signUp('rotate');
    const first = expectTokenPair(
      await api.post('/api/v1/auth/refresh', { json: { refresh_token: user.refresh_token } }),
    );
    expect(first.refresh_token).not.toBe(user.refresh_token);
    expect((await api.get('/api/v1/users/me', { token: first.access_token })).status).toBe(200);
    const replay = await api.post('/api/v1/auth/refresh', {
      json: { refresh_token: user.refresh_token },
    });
    expectProblem(replay, 401, 'ERR_REFRESH_REUSED');
    expectNoStore(replay);
    // The newest token of the family died with it.
    const newest = await api.post('/api/v1/auth/refresh', {
      json: { refresh_token: first.refresh_token },
    });
    expectProblem(newest, 401);
  });

  it('refresh: 20 parallel refreshes with one token have exactly one winner', async () => {
    const { api } = get();
    const user = await api.signUp('race');
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        api.post('/api/v1/auth/refresh', { json: { refresh_token: user.refresh_token } }),
      ),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 401)).toHaveLength(19);
    const winner = responses.find((r) => r.status === 200)?.body as TokenPair;
    // The losers were replays: the family, the winner's new token included, is revoked.
    const after = await api.post('/api/v1/auth/refresh', {
      json: { refresh_token: winner.refresh_token },
    });
    expect(after.status).toBe(401);
  });

  it('refresh: unknown, malformed and access tokens are 401 or 422 problems, never 500', async () => {
    const { api, tokens } = get();
    for (const refresh_token of [tokens.refreshToken(), 'garbage', await tokens.accessToken()]) {
      const response = await api.post('/api/v1/auth/refresh', { json: { refresh_token } });
      expect([401, 422]).toContain(response.status);
      expectProblem(response, response.status);
    }
  });

  it('logout: 204, and the family is revoked', async () => {
    const { api } = get();
    const user = await api.signUp('logout');
    const out = await api.post('/api/v1/auth/logout', {
      json: { refresh_token: user.refresh_token },
    });
    expect(out.status).toBe(204);
    expect(out.text).toBe('');
    expectNoStore(out);
    expectStandardHeaders(out);
    const after = await api.post('/api/v1/auth/refresh', {
      json: { refresh_token: user.refresh_token },
    });
    expectProblem(after, 401);
    // Logging out an unknown token is not an error (RFC 7009 2.2).
    const unknown = await api.post('/api/v1/auth/logout', {
      json: { refresh_token: get().tokens.refreshToken() },
    });
    expect(unknown.status).toBe(204);
  });
}
