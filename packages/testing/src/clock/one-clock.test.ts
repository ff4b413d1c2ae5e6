import {
  createAccessTokenSigner,
  createAccessTokenVerifier,
  createAuth,
  createKeySet,
  createRefreshTokenManager,
  generateSigningKey,
} from '@org/auth';
import { createToolkit, UnauthorizedError } from '@org/core';
import { createNodeAdapter } from '@org/core/node';
import { createHealthChecks } from '@org/observability';
import { createLoginGuard, rateLimit } from '@org/security';
import { expect, it } from 'vitest';
import { createRequester } from '../requests/requester.js';
import { createTestClock } from './test-clock.js';

it('one advance moves tokens, refresh expiry, limiter and brute-force windows and the health cache', async () => {
  const clock = createTestClock('2030-01-01T00:00:00Z');
  const keySet = createKeySet({ signingKey: await generateSigningKey('ES256') });
  const jwt = { keySet, issuer: 'https://api.test', audience: 'api', clock };
  const signer = createAccessTokenSigner({ ...jwt, expiresIn: 600 });
  const auth = createAuth({ verifier: createAccessTokenVerifier(jwt) });
  const refreshTokens = createRefreshTokenManager({ clock, tokenLifetimeSeconds: 600 });
  const guard = createLoginGuard({ clock, maxFailuresPerIp: 2, windowMs: 900_000 });
  let healthRuns = 0;
  const health = createHealthChecks({
    clock,
    cacheMs: 60_000,
    checks: { db: () => void healthRuns++ },
  });

  const app = createNodeAdapter(createToolkit());
  app.get('/ping', { limit: rateLimit({ clock, limit: 1, windowMs: 60_000 }) }, () => ({
    body: 'pong',
  }));
  app.get('/me', { user: auth.currentUser }, (_ctx, { user }) => ({ body: user }));
  app.get('/readyz', {}, () => health.readiness());
  app.post('/login', {}, async (ctx) => {
    await guard.check(ctx, 'ann');
    await guard.recordFailure(ctx, 'ann');
    throw new UnauthorizedError({ detail: 'Invalid email or password.' });
  });
  app.post('/refresh', {}, async (ctx) => {
    const { refresh_token } = (await ctx.request.body()) as { refresh_token: string };
    return { body: { refresh_token: (await refreshTokens.rotate(refresh_token)).token } };
  });
  const api = createRequester(app);

  const { token } = await signer.sign({ subject: 'u1' });
  const refresh = (await refreshTokens.issue('u1')).token;
  const me = () => api.get('/me', { headers: { authorization: `Bearer ${token}` } });
  expect((await me()).status).toBe(200);
  expect((await api.get('/ping')).status).toBe(200);
  expect((await api.get('/ping')).status).toBe(429);
  expect((await api.post('/login')).status).toBe(401);
  expect((await api.post('/login')).status).toBe(401);
  expect((await api.post('/login')).status).toBe(429);
  await api.get('/readyz');
  await api.get('/readyz');
  expect(healthRuns).toBe(1);

  clock.advance(15 * 60_000 + 1000);

  const expired = await me();
  expect(expired.status).toBe(401);
  expect(expired.headers['www-authenticate']).toMatch(/error="invalid_token"/);
  expect((await api.post('/refresh', { json: { refresh_token: refresh } })).status).toBe(401);
  expect((await api.get('/ping')).status).toBe(200);
  expect((await api.post('/login')).status).toBe(401);
  await api.get('/readyz');
  expect(healthRuns).toBe(2);
  await api.close();
});
