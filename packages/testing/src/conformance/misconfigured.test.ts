import { adapters } from '@org/test-support';
import { describe, expect, it } from 'vitest';
import { createToolkitApp, type Misconfiguration } from '../../test/support/toolkit-app.js';
import { ConformanceError } from './conformance-error.js';
import { createConformanceChecks, runConformance } from './plan.js';

async function failuresOf(adapter: (typeof adapters)[number]['name'], mistake?: Misconfiguration) {
  const app = await createToolkitApp(adapter, mistake);
  try {
    const report = await runConformance(app.conformance);
    for (const { error } of report.failed) expect(error).toBeInstanceOf(ConformanceError);
    return { report, failed: report.failed.map((failure) => failure.id).sort() };
  } finally {
    await app.close();
  }
}

const ALG_NONE = [
  'alg-none',
  'alg-None',
  'alg-NONE',
  'alg-none-signed',
  'alg-None-signed',
  'alg-NONE-signed',
];

describe.each(adapters)('the suite catches misconfigured apps on $name', ({ name }) => {
  it('passes every check on the correctly configured app', async () => {
    const { report, failed } = await failuresOf(name);
    expect(failed).toEqual([]);
    expect(report.passed.length).toBeGreaterThan(60);
    expect(report.skipped).toEqual([]);
  });

  it('fails a verifier that accepts alg: none, on exactly the alg-none forgeries', async () => {
    const { failed } = await failuresOf(name, 'alg-none');
    expect(failed).toEqual(ALG_NONE.map((forgery) => `token-forgery/${forgery}`).sort());
  });

  it('fails a CORS config that echoes any origin', async () => {
    const { failed } = await failuresOf(name, 'cors-echo');
    expect(failed).toEqual(['cors/hostile-origins']);
  });

  it('fails a limiter that trusts X-Forwarded-For', async () => {
    const { failed } = await failuresOf(name, 'limiter-trusts-xff');
    expect(failed).toEqual(['rate-limit/spoofed-forwarded-headers']);
  });

  it('fails an API key revocation that does nothing', async () => {
    const { failed } = await failuresOf(name, 'api-key-revoke-ignored');
    expect(failed).toEqual(['api-keys/revoked-refused']);
  });

  it('fails an app that echoes the API key in a response header', async () => {
    const { failed } = await failuresOf(name, 'api-key-echoed');
    expect(failed).toEqual(['api-keys/never-echoed']);
  });

  it('fails an app that logs the API key', async () => {
    const { report, failed } = await failuresOf(name, 'api-key-logged');
    expect(failed).toEqual(['api-keys/never-echoed']);
    expect(report.failed[0]?.error.message).toMatch(/the log holds an API key/);
  });
});

describe('checks are plain async functions', () => {
  it('throw a ConformanceError naming the check and showing the response', async () => {
    const app = await createToolkitApp('node', 'cors-echo');
    const plan = createConformanceChecks(app.conformance);
    try {
      const error = await plan
        .check('cors/hostile-origins')
        .run()
        .then(
          () => undefined,
          (caught: unknown) => caught,
        );
      expect(error).toBeInstanceOf(ConformanceError);
      expect(error).toMatchObject({ code: 'ERR_CONFORMANCE', check: 'cors/hostile-origins' });
      expect((error as ConformanceError).response?.headers['access-control-allow-origin']).toBe(
        'https://evil.example',
      );
      expect((error as Error).message).toMatch(
        /echoed[\s\S]*access-control-allow-origin: https:\/\/evil\.example/,
      );
      await expect(plan.check('cors/allowed-origin').run()).resolves.toBeUndefined();
      expect(() => plan.check('no/such-check')).toThrow(/No conformance check "no\/such-check"/);
    } finally {
      await plan.close();
      await app.close();
    }
  });

  it('leave out and report the groups whose routes are not configured', async () => {
    const app = await createToolkitApp('node');
    const messages: string[] = [];
    const plan = createConformanceChecks({
      app: app.app,
      routes: { protected: '/api/v1/users/me' },
      tokens: { user: await app.tokens.accessToken({ subject: 'user-1', roles: ['user'] }) },
      log: (message) => messages.push(message),
    });
    try {
      expect(plan.groups.map((group) => group.id)).toEqual([
        'token-forgery',
        'problem-json',
        'security-headers',
        'request-id',
      ]);
      expect(plan.skipped.map((skip) => skip.group)).toEqual([
        'auth-challenge',
        'refresh',
        'cors',
        'api-keys',
        'rate-limit',
      ]);
      expect(messages.join('\n')).toMatch(
        /group "cors" skipped: cors.allowedOrigin is not configured/,
      );
      expect(messages.join('\n')).toMatch(/need tokenFactory/);
      const ids = plan.groups.flatMap((group) => group.checks.map((check) => check.id));
      expect(ids).toContain('token-forgery/alg-none');
      expect(ids).not.toContain('token-forgery/expired');
      expect(ids).not.toContain('token-forgery/hs256-public-key-pem');
      await expect(plan.check('token-forgery/tampered-payload').run()).resolves.toBeUndefined();
    } finally {
      await plan.close();
      await app.close();
    }
  });

  it('refuse options that cannot work at build time, naming the option', () => {
    const app = () => {};
    const bad = (options: object, message: RegExp) =>
      expect(() =>
        createConformanceChecks({ app, routes: { protected: '/me' }, ...options }),
      ).toThrow(
        expect.objectContaining({
          code: 'ERR_CONFORMANCE_OPTIONS',
          message: expect.stringMatching(message),
        }),
      );
    bad({ app: undefined }, /exactly one of `app`/);
    bad({ baseUrl: 'http://127.0.0.1:1' }, /exactly one of `app`/);
    bad({ routes: { protected: 'me' } }, /routes.protected must be a path/);
    bad({ rateLimit: { limit: 0 } }, /rateLimit.limit/);
    bad({ cors: { allowedOrigin: 'https://app.example.com/' } }, /cors.allowedOrigin/);
    bad({ credentials: { user: { username: 'a', password: 'b' } } }, /routes.login/);
    bad(
      { apiKeys: { create: '/keys', revoke: '/keys' } },
      /apiKeys.revoke must be the DELETE route with ":id"/,
    );
    bad({ apiKeys: { create: 'keys', revoke: '/keys/:id' } }, /apiKeys.create must be a path/);
    expect(() =>
      createConformanceChecks({ app, routes: { protected: '/me' }, log: () => {} }),
    ).not.toThrow();
  });
});
