import { createServer } from 'node:http';
import Router from '@koa/router';
import {
  ConfigurationError,
  createToolkit,
  defineDependency,
  ForbiddenError,
  type Toolkit,
} from '@org/core';
import { createKoaAdapter, type KoaAdapter } from '@org/core/koa';
import { listen, type RunningApp } from '@org/test-support';
import Koa, { type ExtendableContext } from 'koa';
import { afterEach, describe, expect, it } from 'vitest';

const PROBLEM = 'application/problem+json';

const routeInfo = defineDependency({
  name: 'routeInfo',
  resolve: (ctx) => ({ route: ctx.request.route, params: ctx.request.params }),
});

describe('koa adapter specifics', () => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  /** Starts koa with `kit.middleware` first, then whatever `mount` adds. */
  const start = async (
    mount: (koa: Koa, kit: KoaAdapter) => void,
    toolkit: Toolkit = createToolkit(),
  ): Promise<string> => {
    const kit = createKoaAdapter(toolkit);
    const koa = new Koa();
    koa.use(kit.middleware);
    mount(koa, kit);
    app = await listen(createServer(koa.callback()));
    return app.url;
  };

  it('reports the full template of a prefixed and nested router', async () => {
    const url = await start((koa, kit) => {
      const users = new Router();
      users.get(
        '/users/:id',
        kit.route({ info: routeInfo }, (ctx) => {
          ctx.body = ctx.state.info;
        }),
      );
      const api = new Router({ prefix: '/api' });
      api.use('/v1', users.routes());
      koa.use(api.routes());
    });
    const res = await fetch(`${url}/api/v1/users/42`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ route: '/api/v1/users/:id', params: { id: '42' } });
  });

  it('turns an error from a user middleware into a problem and keeps its headers', async () => {
    const url = await start((koa) => {
      koa.use((ctx) => {
        ctx.set('x-kept', 'yes');
        throw new ForbiddenError({ detail: 'No.' });
      });
    });
    const res = await fetch(`${url}/anything`);
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toBe(PROBLEM);
    expect(res.headers.get('x-kept')).toBe('yes');
    expect(await res.json()).toMatchObject({ status: 403, code: 'ERR_FORBIDDEN', detail: 'No.' });
  });

  it('maps ctx.throw(400, message) to a problem without echoing the message', async () => {
    const url = await start((koa, kit) => {
      const router = new Router();
      router.get(
        '/throw',
        kit.route({}, (ctx) => ctx.throw(400, 'secret <b>internal</b> text')),
      );
      koa.use(router.routes());
    });
    const res = await fetch(`${url}/throw`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe(PROBLEM);
    const text = await res.text();
    expect(text).not.toMatch(/secret|internal/);
    expect(JSON.parse(text)).toMatchObject({ status: 400, code: 'ERR_BAD_REQUEST' });
  });

  it('keeps a plain Error from a koa middleware out of the 500 body', async () => {
    const url = await start((koa) => {
      koa.use(() => {
        throw new Error('ECONNREFUSED 10.0.0.5:5432');
      });
    });
    const res = await fetch(`${url}/`);
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBe(PROBLEM);
    expect(await res.text()).not.toMatch(/ECONNREFUSED|10\.0\.0\.5/);
  });

  it.each<[string, { throw?: boolean }]>([
    ['status', {}],
    ['throw', { throw: true }],
  ])('answers allowedMethods() 405 (%s mode) with a problem', async (_mode, options) => {
    const url = await start((koa, kit) => {
      const router = new Router();
      router.get(
        '/only-get',
        kit.endpoint(() => ({ body: 'ok' })),
      );
      koa.use(router.routes()).use(router.allowedMethods(options));
    });
    const res = await fetch(`${url}/only-get`, { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('content-type')).toBe(PROBLEM);
    expect(await res.json()).toMatchObject({ status: 405, code: 'ERR_METHOD_NOT_ALLOWED' });
    if (options.throw === undefined) expect(res.headers.get('allow')).toBe('HEAD, GET');
  });

  it('serves a neutral endpoint: JSON as JSON, strings never sniffed as HTML', async () => {
    const url = await start((koa, kit) => {
      const router = new Router();
      router.get(
        '/keys/:kid',
        kit.endpoint(async (ctx) => ({
          status: 201,
          headers: { 'x-route': ctx.request.route ?? 'none' },
          body: { kid: ctx.request.params.kid },
        })),
      );
      router.get(
        '/text',
        kit.endpoint(() => ({ body: '<script>alert(1)</script>' })),
      );
      router.get(
        '/empty',
        kit.endpoint(() => ({ status: 200 })),
      );
      koa.use(router.routes());
    });
    const json = await fetch(`${url}/keys/k1`);
    expect(json.status).toBe(201);
    expect(json.headers.get('content-type')).toContain('application/json');
    expect(json.headers.get('x-route')).toBe('/keys/:kid');
    expect(await json.json()).toEqual({ kid: 'k1' });
    const text = await fetch(`${url}/text`);
    expect(text.headers.get('content-type')).toContain('text/plain');
    expect(await text.text()).toBe('<script>alert(1)</script>');
    const empty = await fetch(`${url}/empty`);
    expect(empty.status).toBe(200);
    expect(await empty.text()).toBe('');
  });

  it('leaves an explicit 404 with a body alone', async () => {
    const url = await start((koa) => {
      koa.use((ctx) => {
        ctx.status = 404;
        ctx.body = { custom: true };
      });
    });
    const res = await fetch(`${url}/x`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toEqual({ custom: true });
  });

  it('refuses kit.context for a request the middleware never saw', () => {
    const kit = createKoaAdapter(createToolkit());
    expect(() => kit.context({} as ExtendableContext)).toThrow(ConfigurationError);
  });
});
