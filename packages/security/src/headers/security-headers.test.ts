import {
  ConfigurationError,
  createToolkit,
  InternalServerError,
  NotFoundError,
  type Plugin,
} from '@org/core';
import { adapters, type RouteSpec, type RunningApp } from '@org/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../internal/fake-context.js';
import { rateLimitPlugin } from '../rate-limit/rate-limit.js';
import { noStore, noStoreDependency } from './no-store.js';
import { securityHeaders } from './security-headers.js';

const EXPECTED = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
};

const poweredBy: Plugin = {
  name: 'powered-by',
  onRequest: (ctx) => {
    ctx.setHeader('x-powered-by', 'PHP/5.4');
    ctx.setHeader('server', 'framework/1.0');
  },
};

const routes: RouteSpec[] = [
  { method: 'GET', path: '/ok', handler: () => ({ body: { ok: true } }) },
  {
    method: 'GET',
    path: '/missing',
    handler: () => {
      throw new NotFoundError();
    },
  },
  {
    method: 'GET',
    path: '/crash',
    handler: () => {
      throw new Error('boom');
    },
  },
  {
    method: 'GET',
    path: '/fail',
    handler: () => {
      throw new InternalServerError();
    },
  },
  {
    method: 'POST',
    path: '/token',
    dependencies: { noStore: noStoreDependency },
    handler: () => ({ body: { access_token: 't' } }),
  },
  {
    method: 'POST',
    path: '/token-error',
    dependencies: { noStore: noStoreDependency },
    handler: () => {
      throw new NotFoundError();
    },
  },
  {
    method: 'POST',
    path: '/manual',
    handler: (ctx) => {
      noStore(ctx);
      return { body: { ok: true } };
    },
  },
];

describe.each(adapters)('security headers on $name', (fixture) => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  const start = async (plugins: Plugin[]) => {
    app = await fixture.start(createToolkit({ plugins, onError: () => {} }), routes);
    return app.url;
  };

  it.each([
    ['/ok', 200],
    ['/missing', 404],
    ['/no-such-route', 404],
    ['/crash', 500],
    ['/fail', 500],
  ])('sends them on %s (%i) and strips X-Powered-By and Server', async (path, status) => {
    const url = await start([poweredBy, securityHeaders({ hsts: false })]);
    const res = await fetch(`${url}${path}`);
    expect(res.status).toBe(status);
    for (const [name, value] of Object.entries(EXPECTED)) expect(res.headers.get(name)).toBe(value);
    expect(res.headers.get('strict-transport-security')).toBeNull();
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('server') ?? '').not.toMatch(/framework|express|fastify|koa|hono/i);
  });

  it('sends them on a 429 from a later plugin', async () => {
    const url = await start([
      securityHeaders({ hsts: false }),
      rateLimitPlugin({ limit: 1, clock: new ManualClock() }),
    ]);
    expect((await fetch(`${url}/ok`)).status).toBe(200);
    const res = await fetch(`${url}/ok`);
    expect(res.status).toBe(429);
    for (const [name, value] of Object.entries(EXPECTED)) expect(res.headers.get(name)).toBe(value);
  });

  it('adds HSTS when asked (production)', async () => {
    const url = await start([securityHeaders({ hsts: true })]);
    const res = await fetch(`${url}/ok`);
    expect(res.headers.get('strict-transport-security')).toBe(
      'max-age=31536000; includeSubDomains',
    );
  });

  it('marks token responses no-store, on success and on error', async () => {
    const url = await start([securityHeaders({ hsts: false })]);
    for (const path of ['/token', '/token-error', '/manual']) {
      const res = await fetch(`${url}${path}`, { method: 'POST' });
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('pragma')).toBe('no-cache');
    }
    expect((await fetch(`${url}/ok`)).headers.get('cache-control')).toBeNull();
  });
});

describe('securityHeaders options', () => {
  it('defaults HSTS to production only', () => {
    const headersOf = (plugin: Plugin) => {
      const set = new Map<string, string>();
      const ctx = { setHeader: (n: string, v: string) => set.set(n, v), removeHeader: () => {} };
      plugin.onRequest?.(ctx as never);
      return set;
    };
    const previous = process.env.NODE_ENV;
    try {
      process.env.NODE_ENV = 'production';
      expect(headersOf(securityHeaders()).get('strict-transport-security')).toBe(
        'max-age=31536000; includeSubDomains',
      );
      process.env.NODE_ENV = 'development';
      expect(headersOf(securityHeaders()).has('strict-transport-security')).toBe(false);
    } finally {
      process.env.NODE_ENV = previous;
    }
    const custom = headersOf(
      securityHeaders({
        hsts: { maxAgeSeconds: 63_072_000, preload: true },
        frameOptions: false,
        contentSecurityPolicy: "default-src 'self'",
      }),
    );
    expect(custom.get('strict-transport-security')).toBe(
      'max-age=63072000; includeSubDomains; preload',
    );
    expect(custom.has('x-frame-options')).toBe(false);
    expect(custom.get('content-security-policy')).toBe("default-src 'self'");
  });

  it('rejects header injection and a short preload', () => {
    expect(() => securityHeaders({ referrerPolicy: 'no-referrer\r\nSet-Cookie: a=b' })).toThrow(
      ConfigurationError,
    );
    expect(() => securityHeaders({ hsts: { maxAgeSeconds: 60, preload: true } })).toThrow(
      /preload/,
    );
    expect(() => securityHeaders({ removeHeaders: ['X Powered By'] })).toThrow(/removeHeaders/);
  });
});
