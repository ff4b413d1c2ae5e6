import { ConfigurationError, createToolkit, type Plugin } from '@org/core';
import { adapters, type RunningApp } from '@org/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { type CorsOptions, cors } from './cors.js';

const APP = 'https://app.example.com';
const HOSTILE = [
  'https://evil.com',
  'https://app.example.com.evil.com', // suffix trick
  'https://evilapp.example.com', // prefix trick
  'https://app.example.co',
  'http://app.example.com', // scheme downgrade
  'https://app.example.com:8443',
  'https://APP.example.com.evil.com',
  'null',
];

describe.each(adapters)('cors on $name', (fixture) => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  const start = async (options: CorsOptions, extra: Plugin[] = []) => {
    const toolkit = createToolkit({ plugins: [cors(options), ...extra] });
    app = await fixture.start(toolkit, [
      { method: 'GET', path: '/data', handler: () => ({ body: { ok: true } }) },
      { method: 'POST', path: '/data', handler: () => ({ status: 201, body: { ok: true } }) },
    ]);
    return app.url;
  };
  const strict: CorsOptions = {
    origins: [APP, /^https:\/\/[a-z0-9-]+\.preview\.example\.com$/],
    credentials: true,
  };

  it('echoes a listed origin with credentials, exposes the rate-limit headers and varies on Origin', async () => {
    const url = await start(strict);
    const res = await fetch(`${url}/data`, { headers: { origin: APP } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('vary')).toMatch(/\bOrigin\b/i);
    const exposed = res.headers.get('access-control-expose-headers')?.split(/,\s*/) ?? [];
    expect(exposed).toEqual(
      expect.arrayContaining(['RateLimit', 'RateLimit-Policy', 'Retry-After', 'X-Request-Id']),
    );
    const preview = await fetch(`${url}/data`, {
      headers: { origin: 'https://pr-42.preview.example.com' },
    });
    expect(preview.headers.get('access-control-allow-origin')).toBe(
      'https://pr-42.preview.example.com',
    );
  });

  it.each(HOSTILE)('never echoes %s', async (origin) => {
    const url = await start(strict);
    const res = await fetch(`${url}/data`, { headers: { origin } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('vary')).toMatch(/\bOrigin\b/i);
    const preflight = await fetch(`${url}/data`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(preflight.headers.get('access-control-allow-methods')).toBeNull();
  });

  it('varies on Origin even when the request has none', async () => {
    const url = await start(strict);
    const res = await fetch(`${url}/data`);
    expect(res.headers.get('vary')).toMatch(/\bOrigin\b/i);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('accepts the null origin only when listed', async () => {
    const url = await start({ origins: ['null'] });
    const res = await fetch(`${url}/data`, { headers: { origin: 'null' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('null');
  });

  it('answers a preflight with 204, methods, headers and max-age, before any route or later plugin', async () => {
    let later = 0;
    const url = await start(strict, [{ name: 'later', onRequest: () => void later++ }]);
    const res = await fetch(`${url}/data`, {
      method: 'OPTIONS',
      headers: {
        origin: APP,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-methods')).toBe(
      'GET, HEAD, POST, PUT, PATCH, DELETE',
    );
    expect(res.headers.get('access-control-allow-headers')).toBe(
      'Authorization, Content-Type, X-Request-Id',
    );
    expect(res.headers.get('access-control-max-age')).toBe('600');
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('vary')).toMatch(/\bOrigin\b/i);
    expect(later).toBe(0);
  });

  it("with origins '*' answers any origin with * and no credentials", async () => {
    const url = await start({ origins: '*' });
    const res = await fetch(`${url}/data`, { headers: { origin: 'https://anyone.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('allows nothing cross-origin by default', async () => {
    const url = await start({});
    const res = await fetch(`${url}/data`, { headers: { origin: APP } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('cors configuration', () => {
  it.each([
    [{ origins: '*', credentials: true }, /credentials/],
    [{ origins: [/example\.com/] }, /anchored/],
    [{ origins: [/^https:\/\/example\.com/] }, /anchored/],
    [{ origins: [/^https:\/\/example\.com$/g] }, /flag/],
    [{ origins: ['https://example.com/'] }, /trailing slash/],
    [{ origins: ['https://*.example.com'] }, /wildcard/],
    [{ origins: ['example.com'] }, /not an origin/],
    [{ origins: ['*', 'https://a.com'] }, /on its own/],
    [{ methods: ['GET POST'] }, /methods/],
    [{ maxAgeSeconds: -1 }, /maxAgeSeconds/],
  ] as [CorsOptions, RegExp][])('rejects %o at start-up', (options, message) => {
    expect(() => cors(options)).toThrow(ConfigurationError);
    expect(() => cors(options)).toThrow(message);
  });
});
