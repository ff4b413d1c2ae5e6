import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  authenticate,
  createAccessTokenSigner,
  createAccessTokenVerifier,
  createApiKeys,
  createAuth,
  createKeySet,
  createPasswordHasher,
  createRefreshTokenManager,
  generateSigningKey,
  MemoryApiKeyStore,
} from '@org/auth';
import {
  createToolkit,
  type Plugin,
  requestIdKey,
  type SecurityEvent,
  securityEventChannel,
  UnauthorizedError,
} from '@org/core';
import { adapters, type RunningApp } from '@org/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from './helpers.js';

const PASSWORD = 'correct horse battery staple';
/** Why a token with one character appended is refused: kept in the event only. */
const REFUSED_DETAIL = 'a segment is not canonical base64url';
const EMAIL = 'ann@example.com';
const LOOPBACK = /^(?:::ffff:)?127\.0\.0\.1$|^::1$/;

const clock = manualClock();
const hasher = createPasswordHasher({ logN: 10 });
const users = new Map([[EMAIL, { id: 'u1', passwordHash: await hasher.hash(PASSWORD) }]]);
const keySet = createKeySet({ signingKey: await generateSigningKey('ES256') });
const signer = createAccessTokenSigner({
  keySet,
  issuer: 'https://issuer.test',
  audience: 'api',
  clock,
});
const refreshTokens = createRefreshTokenManager({ clock });
const apiKeys = createApiKeys({ store: new MemoryApiKeyStore(), clock });
const auth = createAuth({
  verifier: createAccessTokenVerifier({
    keySet,
    issuer: 'https://issuer.test',
    audience: 'api',
    clock,
    cache: false,
  }),
  apiKeys,
});

/** Takes the request id from the header and tracks the context, as `requestId()` of observability does. */
const requestIds: Plugin = {
  name: 'request-ids',
  asyncContext: true,
  onRequest: (ctx) => {
    const id = ctx.request.header('x-request-id');
    if (id !== undefined) ctx.set(requestIdKey, id);
  },
};

const events: SecurityEvent[] = [];
const collect = (message: unknown) => events.push(message as SecurityEvent);
beforeAll(() => subscribe(securityEventChannel.name, collect));
afterAll(() => unsubscribe(securityEventChannel.name, collect));
afterEach(() => {
  events.length = 0;
});

describe.each(adapters)('security events of @org/auth on $name', (fixture) => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await fixture.start(createToolkit({ plugins: [requestIds] }), [
      {
        method: 'POST',
        path: '/login',
        handler: async (ctx) => {
          const body = (await ctx.request.body()) as { email: string; password: string };
          const user = await authenticate({
            hasher,
            user: users.get(body.email),
            password: body.password,
            passwordHash: (u) => u.passwordHash,
            ctx,
          });
          if (user === undefined)
            throw new UnauthorizedError({ detail: 'Invalid email or password.' });
          const refresh = await refreshTokens.issue(user.id);
          const access = await signer.sign({ subject: user.id });
          return { body: { refresh_token: refresh.token, access_token: access.token } };
        },
      },
      {
        method: 'POST',
        path: '/refresh',
        handler: async (ctx) => {
          const body = (await ctx.request.body()) as { refresh_token: string };
          // No ctx: the manager reads the tracked current context.
          const next = await refreshTokens.rotate(body.refresh_token);
          return { body: { refresh_token: next.token } };
        },
      },
      {
        method: 'GET',
        path: '/me',
        dependencies: { principal: auth.principal },
        handler: (_ctx, values) => ({ body: { id: (values.principal as { id: string }).id } }),
      },
      {
        method: 'POST',
        path: '/keys',
        dependencies: { principal: auth.principal },
        handler: async (_ctx, values) => {
          const owner = (values.principal as { id: string }).id;
          const { key, record } = await apiKeys.create({ owner, name: 'CI' });
          return { status: 201, body: { id: record.id, key } };
        },
      },
      {
        method: 'DELETE',
        path: '/keys/:id',
        dependencies: { principal: auth.principal },
        handler: async (ctx) => {
          await apiKeys.revoke(ctx.request.params.id as string);
          return { status: 204 };
        },
      },
    ]);
  });
  afterAll(() => app.close());

  const call = (method: string, path: string, requestId: string, init: RequestInit = {}) =>
    fetch(`${app.url}${path}`, {
      ...init,
      method,
      headers: { 'x-request-id': requestId, ...(init.headers as Record<string, string>) },
    });
  const post = (path: string, requestId: string, body: unknown) =>
    call('POST', path, requestId, {
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
  const bearer = (credential: string) => ({ headers: { authorization: `Bearer ${credential}` } });
  const request = (id: string) => ({ request_id: id, client_ip: expect.stringMatching(LOOPBACK) });

  it('publishes each event once, with its fields and without secrets', async () => {
    expect((await post('/login', 'r1', { email: EMAIL, password: 'guess' })).status).toBe(401);
    expect(
      (await post('/login', 'r2', { email: 'nobody@example.com', password: 'guess' })).status,
    ).toBe(401);
    const login = await post('/login', 'r3', { email: EMAIL, password: PASSWORD });
    expect(login.status).toBe(200);
    const tokens = (await login.json()) as { refresh_token: string; access_token: string };

    const rotated = await post('/refresh', 'r4', { refresh_token: tokens.refresh_token });
    expect(rotated.status).toBe(200);
    const next = ((await rotated.json()) as { refresh_token: string }).refresh_token;
    const replay = await post('/refresh', 'r5', { refresh_token: tokens.refresh_token });
    expect(replay.status).toBe(401);
    expect((await post('/refresh', 'r6', { refresh_token: 'not-a-token' })).status).toBe(401);

    expect((await call('GET', '/me', 'r7')).status).toBe(401); // no credential: no event
    const forged = await call('GET', '/me', 'r8', bearer(`${tokens.access_token}x`));
    expect(forged.status).toBe(401);
    // The reason is in the event, not in the answer.
    const answer = `${await forged.text()} ${forged.headers.get('www-authenticate')}`;
    expect(answer).toContain('invalid_token');
    expect(answer).not.toContain(REFUSED_DETAIL);

    const created = await call('POST', '/keys', 'r9', bearer(tokens.access_token));
    expect(created.status).toBe(201);
    const { id, key } = (await created.json()) as { id: string; key: string };
    expect((await call('GET', '/me', 'r10', { headers: { 'x-api-key': key } })).status).toBe(200);
    expect((await call('DELETE', `/keys/${id}`, 'r11', bearer(tokens.access_token))).status).toBe(
      204,
    );
    expect((await call('GET', '/me', 'r12', { headers: { 'x-api-key': key } })).status).toBe(401);

    const retired = keySet.signingKey?.kid;
    const secondKey = await generateSigningKey('ES256');
    keySet.rotate(secondKey);

    const time = expect.any(Number);
    expect(events).toEqual([
      { event: 'login.failed', time, ...request('r1'), user_id: 'u1', reason: 'wrong_password' },
      { event: 'login.failed', time, ...request('r2'), user_id: undefined, reason: 'unknown_user' },
      { event: 'login.succeeded', time, ...request('r3'), user_id: 'u1' },
      {
        event: 'refresh.reuse_detected',
        time: clock.now(),
        ...request('r5'),
        family_id: expect.any(String),
        user_id: 'u1',
        family_revoked: true,
      },
      {
        event: 'token.refused',
        time,
        ...request('r6'),
        credential: 'refresh_token',
        reason: 'ERR_REFRESH_INVALID',
      },
      {
        event: 'token.refused',
        time,
        ...request('r8'),
        credential: 'access_token',
        reason: 'ERR_TOKEN_INVALID',
        detail: REFUSED_DETAIL,
      },
      { event: 'api_key.created', time: clock.now(), ...request('r9'), key_id: id, owner: 'u1' },
      { event: 'api_key.revoked', time: clock.now(), ...request('r11'), key_id: id, owner: 'u1' },
      {
        event: 'api_key.used_after_revocation',
        time: clock.now(),
        ...request('r12'),
        key_id: id,
        owner: 'u1',
      },
      {
        event: 'token.refused',
        time,
        ...request('r12'),
        credential: 'api_key',
        reason: 'ERR_API_KEY_REVOKED',
      },
      {
        event: 'keys.rotated',
        time,
        source: 'key_set',
        kid: secondKey.kid,
        added_kids: [secondKey.kid],
        retired_kids: [retired],
      },
    ]);
    const reuse = events[3] as Extract<SecurityEvent, { event: 'refresh.reuse_detected' }>;
    expect(tokens.refresh_token.startsWith(reuse.family_id)).toBe(true);

    const text = JSON.stringify(events);
    for (const secret of [
      PASSWORD,
      'guess',
      EMAIL,
      'nobody@example.com',
      tokens.access_token,
      tokens.refresh_token,
      next,
      key,
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it('publishes nothing while nobody subscribes', async () => {
    unsubscribe(securityEventChannel.name, collect);
    try {
      expect(securityEventChannel.hasSubscribers).toBe(false);
      expect((await post('/login', 'r1', { email: EMAIL, password: 'guess' })).status).toBe(401);
    } finally {
      subscribe(securityEventChannel.name, collect);
    }
    expect(events).toEqual([]);
  });
});
