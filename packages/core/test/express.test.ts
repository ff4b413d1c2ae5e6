import { createServer } from 'node:http';
import {
  ConfigurationError,
  type Context,
  createToolkit,
  defineDependency,
  ForbiddenError,
  type ResponseInfo,
  type Toolkit,
  TooManyRequestsError,
} from '@org/core';
import { getCurrentContext } from '@org/core/adapter';
import { createExpressAdapter, type ExpressAdapter } from '@org/core/express';
import { abandonRequest, deferred, listen, type RunningApp } from '@org/test-support';
import express, { type Express } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { teardownProbe } from './teardown-probe.js';

const PROBLEM = 'application/problem+json';

const routeInfo = defineDependency({
  name: 'routeInfo',
  resolve: (ctx) => ({ route: ctx.request.route, params: ctx.request.params }),
});

const postJson = (url: string, body: string) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('express adapter specifics', () => {
  const apps: RunningApp[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  /** Starts express with `kit.middleware` first, `mount`'s routes, then the 404 and error handlers. */
  const start = async (
    mount: (app: Express, kit: ExpressAdapter) => void,
    toolkit: Toolkit = createToolkit(),
  ): Promise<string> => {
    const kit = createExpressAdapter(toolkit);
    const app = express();
    app.use(kit.middleware);
    mount(app, kit);
    app.use(kit.notFound, kit.errorHandler);
    const running = await listen(createServer(app));
    apps.push(running);
    return running.url;
  };

  describe('errors from express.json() map onto the problems of the toolkit reader', () => {
    const echo = (app: Express, kit: ExpressAdapter) =>
      app.post(
        '/echo',
        kit.endpoint(async (ctx) => ({ body: { received: await ctx.request.body() } })),
      );
    const withParser = (limit: number) =>
      start((app, kit) => {
        app.use(express.json({ limit }));
        echo(app, kit);
      });

    it('answers malformed JSON with the same 400, never the parser text', async () => {
      const [parsed, own] = await Promise.all([withParser(1024), start(echo)]);
      const fromParser = await postJson(`${parsed}/echo`, '{"a": tru');
      const fromReader = await postJson(`${own}/echo`, '{"a": tru');
      expect(fromParser.status).toBe(400);
      expect(fromParser.headers.get('content-type')).toBe(PROBLEM);
      const body = await fromParser.json();
      expect(body).toEqual(await fromReader.json());
      expect(body).toEqual({
        type: 'about:blank',
        title: 'Bad Request',
        status: 400,
        code: 'ERR_MALFORMED_JSON',
        detail: 'The request body is not valid JSON.',
      });
    });

    it('answers a body over the limit with the same 413', async () => {
      const [parsed, own] = await Promise.all([
        withParser(1024),
        start(echo, createToolkit({ bodyLimit: 1024 })),
      ]);
      const big = JSON.stringify({ blob: 'x'.repeat(4096) });
      const fromParser = await postJson(`${parsed}/echo`, big);
      const fromReader = await postJson(`${own}/echo`, big);
      expect(fromParser.status).toBe(413);
      expect(fromParser.headers.get('content-type')).toBe(PROBLEM);
      const body = await fromParser.json();
      expect(body).toEqual(await fromReader.json());
      expect(body).toMatchObject({
        status: 413,
        code: 'ERR_BODY_TOO_LARGE',
        detail: 'The request body exceeds 1024 bytes.',
      });
    });

    it('uses the parsed body without reading the stream again, with the same sanitizing', async () => {
      const url = await withParser(1024);
      const res = await postJson(`${url}/echo`, '{"name":"x","__proto__":{"polluted":1}}');
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ received: { name: 'x' } });
    });
  });

  it('tears down a dependency that resolves after the client left, with nothing watching the response', async () => {
    const closed = deferred<void>();
    const started = deferred<void>();
    const late = teardownProbe();
    const url = await start((app, kit) => {
      app.get('/late', async (req, res) => {
        // The test's own watch: the toolkit adds none for this request.
        res.on('close', () => closed.resolve());
        started.resolve();
        await closed.promise;
        await kit.context(req).resolve(late.dependency);
      });
    });
    await abandonRequest(`${url}/late`, started.promise);
    expect(await late.tornDown).toMatchObject({ status: 0, aborted: true, failed: true });
  });

  it('reports the full template of a route in nested routers or under app.use, with its params', async () => {
    const url = await start((app, kit) => {
      const users = express.Router();
      const handler = kit.route({ info: routeInfo }, (req, res) => {
        res.json(req.info);
      });
      users.get('/', handler);
      users.get('/:id', handler);
      users.get('/:id/files/*path', handler);
      const api = express.Router();
      api.use('/v1/users', users);
      app.use('/api', api);
      app.use(
        '/healthz',
        kit.endpoint((ctx) => ({ body: { route: ctx.request.route } })),
      );
    });
    const one = await fetch(`${url}/api/v1/users/42?x=1`);
    expect(one.status).toBe(200);
    expect(await one.json()).toEqual({ route: '/api/v1/users/:id', params: { id: '42' } });
    const list = await fetch(`${url}/api/v1/users`);
    expect(await list.json()).toEqual({ route: '/api/v1/users', params: {} });
    const file = await fetch(`${url}/api/v1/users/7/files/a/b.txt`);
    expect(await file.json()).toEqual({
      route: '/api/v1/users/:id/files/*path',
      params: { id: '7', path: 'a/b.txt' },
    });
    const mounted = await fetch(`${url}/healthz`);
    expect(await mounted.json()).toEqual({ route: '/healthz' });
  });

  it('turns next(err) from a user middleware into a problem and keeps its headers', async () => {
    const seen: ResponseInfo[] = [];
    const toolkit = createToolkit({
      plugins: [{ name: 'seen', onResponse: (_ctx, info) => seen.push(info) }],
    });
    const url = await start((app) => {
      app.use('/admin', (_req, res, next) => {
        res.set('x-kept', 'yes');
        next(new ForbiddenError({ detail: 'No.' }));
      });
    }, toolkit);
    const res = await fetch(`${url}/admin/panel`);
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toBe(PROBLEM);
    expect(res.headers.get('x-kept')).toBe('yes');
    expect(await res.json()).toEqual({
      type: 'about:blank',
      title: 'Forbidden',
      status: 403,
      code: 'ERR_FORBIDDEN',
      detail: 'No.',
    });
    await expect.poll(() => seen.length).toBe(1);
    expect(seen[0]).toMatchObject({ status: 403, aborted: false });
    expect(seen[0]?.error).toBeInstanceOf(ForbiddenError);
  });

  it('turns a plain error passed to next() into a 500 that leaks nothing, and reports it', async () => {
    const reported: unknown[] = [];
    const toolkit = createToolkit({ onError: (error) => reported.push(error) });
    const boom = new Error('ECONNREFUSED 10.0.0.5:5432 password=hunter2');
    const url = await start((app) => {
      app.get('/db', (_req, _res, next) => next(boom));
    }, toolkit);
    const res = await fetch(`${url}/db`);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toMatch(/ECONNREFUSED|hunter2|\bat /);
    expect(JSON.parse(text)).toMatchObject({ status: 500, code: 'ERR_INTERNAL' });
    expect(reported).toEqual([boom]);
  });

  it("maps express's own client errors (a malformed path) to a problem", async () => {
    const url = await start((app, kit) => {
      app.get(
        '/users/:id',
        kit.endpoint(() => ({ body: 'never' })),
      );
    });
    const res = await fetch(`${url}/users/%E0%A4%A`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe(PROBLEM);
    expect(await res.json()).toMatchObject({ status: 400, code: 'ERR_BAD_PATH' });
  });

  it('lets a plugin remove X-Powered-By, which express sets before any middleware', async () => {
    const plain = await start((app, kit) => {
      app.get(
        '/',
        kit.endpoint(() => ({ body: 'ok' })),
      );
    });
    expect((await fetch(plain)).headers.get('x-powered-by')).toBe('Express');
    const toolkit = createToolkit({
      plugins: [{ name: 'hide', onRequest: (ctx) => ctx.removeHeader('x-powered-by') }],
    });
    const hidden = await start((app, kit) => {
      app.get(
        '/',
        kit.endpoint(() => ({ body: 'ok' })),
      );
    }, toolkit);
    const res = await fetch(hidden);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('answers a plugin error with a problem before any route runs', async () => {
    let routed = false;
    const toolkit = createToolkit({
      plugins: [
        {
          name: 'limit',
          onRequest: async () => {
            throw new TooManyRequestsError({ retryAfter: 7 });
          },
        },
      ],
    });
    const url = await start((app, kit) => {
      app.get(
        '/x',
        kit.endpoint(() => {
          routed = true;
          return { body: 'x' };
        }),
      );
    }, toolkit);
    const res = await fetch(`${url}/x`);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect((await res.json()).code).toBe('ERR_RATE_LIMITED');
    expect(routed).toBe(false);
  });

  it('keeps the request context current in handlers, after express.json() and async dependencies', async () => {
    const slow = defineDependency({ name: 'slow', resolve: async () => 'v' });
    const url = await start(
      (app, kit) => {
        app.use(express.json());
        app.post(
          '/ctx',
          kit.route({ slow }, async (req, res) => {
            await Promise.resolve();
            res.json({ same: getCurrentContext() === kit.context(req), slow: req.slow });
          }),
        );
      },
      createToolkit({ plugins: [{ name: 'tracks', asyncContext: true }] }),
    );
    const res = await postJson(`${url}/ctx`, '{"a":1}');
    expect(await res.json()).toEqual({ same: true, slow: 'v' });
  });

  it('runs the plugins once when a sub-app mounts kit.middleware again', async () => {
    let runs = 0;
    const toolkit = createToolkit({ plugins: [{ name: 'count', onRequest: () => void runs++ }] });
    let context: Context | undefined;
    const url = await start((app, kit) => {
      const sub = express();
      sub.use(kit.middleware);
      sub.get(
        '/ping',
        kit.endpoint((ctx) => {
          context = ctx;
          return { body: { route: ctx.request.route } };
        }),
      );
      app.use('/sub', sub);
    }, toolkit);
    const res = await fetch(`${url}/sub/ping`);
    expect(await res.json()).toEqual({ route: '/sub/ping' });
    expect(runs).toBe(1);
    expect(context).toBeDefined();
  });

  it('answers 500 when kit.middleware is missing, and reports the configuration error', async () => {
    const reported: unknown[] = [];
    const kit = createExpressAdapter(createToolkit({ onError: (error) => reported.push(error) }));
    const app = express();
    app.get(
      '/x',
      kit.endpoint(() => ({ body: 'x' })),
    );
    app.use(kit.errorHandler);
    const running = await listen(createServer(app));
    apps.push(running);
    const res = await fetch(`${running.url}/x`);
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBe(PROBLEM);
    expect(reported[0]).toBeInstanceOf(ConfigurationError);
  });

  it('refuses at registration a dependency name that would replace part of express', () => {
    const kit = createExpressAdapter(createToolkit());
    expect(() => kit.route({ query: routeInfo }, () => {})).toThrow(ConfigurationError);
    expect(() => kit.route({ headers: routeInfo }, () => {})).toThrow(/req\.headers/);
    expect(() => kit.route({ route: routeInfo }, () => {})).not.toThrow();
  });
});
