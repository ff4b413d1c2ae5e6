import { createServer, type Server, type ServerResponse } from 'node:http';
import { createAdaptorServer, getRequestListener } from '@hono/node-server';
import {
  ConfigurationError,
  createToolkit,
  defineDependency,
  ForbiddenError,
  type RequestOutcome,
  requestBody,
} from '@org/core';
import { createHonoAdapter } from '@org/core/hono';
import { abandonRequest, deferred, listen, rawExchange } from '@org/test-support';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { teardownProbe } from './teardown-probe.js';

const PROBLEM = 'application/problem+json';

const routeInfo = defineDependency({
  name: 'routeInfo',
  resolve: (ctx) => ({ route: ctx.request.route, params: ctx.request.params }),
});

describe('hono adapter specifics (in-process, app.request)', () => {
  it('keeps the route kit.route bound: onResponse reads its template and params after later handlers ran', async () => {
    const seen: { route: string | undefined; params: Readonly<Record<string, string>> }[] = [];
    const kit = createHonoAdapter(
      createToolkit({
        plugins: [
          {
            name: 'route-label',
            onResponse: (ctx) =>
              seen.push({ route: ctx.request.route, params: ctx.request.params }),
          },
        ],
      }),
    );
    const app = kit.install(new Hono());
    app.use('/teams/:team/*', async (_c, next) => next());
    app.get('/teams/:team/users/:id', kit.route({}), async (_c, next) => next());
    // Matched last, so hono's current route when the response ends is this one.
    app.get('/teams/*', (c) => c.text('handled'));

    const response = await app.request('/teams/a%20b/users/7');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('handled');
    await expect.poll(() => seen.length).toBe(1);
    expect(seen[0]).toEqual({
      route: '/teams/:team/users/:id',
      params: { team: 'a b', id: '7' },
    });
  });

  it('resolves dependencies, exposes them in c.get and finishes without a node server', async () => {
    const outcomes: RequestOutcome[] = [];
    const tx = defineDependency({
      name: 'tx',
      resolve: (ctx) => {
        ctx.setHeader('x-stamp', 'yes');
        return 'tx';
      },
      teardown: (_value, outcome) => {
        outcomes.push(outcome);
      },
    });
    const kit = createHonoAdapter(createToolkit());
    const app = kit.install(new Hono());
    app.get('/users/:id', kit.route({ tx, info: routeInfo }), (c) =>
      c.json({ tx: c.get('tx'), ...c.get('info') }),
    );
    app.get('/denied', kit.route({ tx }), () => {
      throw new ForbiddenError();
    });

    const ok = await app.request('/users/7?x=1');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-stamp')).toBe('yes');
    expect(await ok.json()).toEqual({ tx: 'tx', route: '/users/:id', params: { id: '7' } });
    await expect.poll(() => outcomes.length).toBe(1);
    expect(outcomes[0]).toMatchObject({ status: 200, failed: false, aborted: false });

    const denied = await app.request('/denied');
    expect(denied.status).toBe(403);
    expect(denied.headers.get('content-type')).toBe(PROBLEM);
    expect(denied.headers.get('x-stamp')).toBe('yes');
    expect(await denied.json()).toMatchObject({ status: 403, code: 'ERR_FORBIDDEN' });
    await expect.poll(() => outcomes.length).toBe(2);
    expect(outcomes[1]).toMatchObject({ status: 403, failed: true, aborted: false });
    expect(outcomes[1]?.error).toBeInstanceOf(ForbiddenError);

    const missing = await app.request('/%3Cscript%3E');
    expect(missing.status).toBe(404);
    expect(await missing.text()).not.toMatch(/script|%3C/i);
  });

  it('gives the full template of a route mounted with app.route', async () => {
    const kit = createHonoAdapter(createToolkit());
    const api = new Hono();
    api.get('/users/:id/posts/:post', kit.route({ info: routeInfo }), (c) => c.json(c.get('info')));
    const app = kit.install(new Hono());
    app.route('/api', api);
    const res = await app.request('/api/users/1/posts/2');
    expect(await res.json()).toEqual({
      route: '/api/users/:id/posts/:post',
      params: { id: '1', post: '2' },
    });
  });

  it('reads an in-process body, which carries no Content-Length, with the toolkit limits', async () => {
    const kit = createHonoAdapter(createToolkit({ bodyLimit: 64 }));
    const app = kit.install(new Hono());
    const input = requestBody(z.object({ name: z.string() }));
    app.post('/users', kit.route({ input }), (c) => c.json(c.get('input'), 201));
    const post = (body: string, contentType = 'application/json') =>
      app.request('/users', { method: 'POST', headers: { 'content-type': contentType }, body });

    const created = await post('{"name":"ada"}');
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ name: 'ada' });
    const tooLarge = await post(JSON.stringify({ name: 'x'.repeat(100) }));
    expect(tooLarge.status).toBe(413);
    expect((await tooLarge.json()).code).toBe('ERR_BODY_TOO_LARGE');
    expect((await post('<a/>', 'text/xml')).status).toBe(415);
  });

  it('reads a body that another middleware already consumed through c.req', async () => {
    const kit = createHonoAdapter(createToolkit());
    const app = kit.install(new Hono());
    const input = requestBody(z.object({ name: z.string() }));
    app.post(
      '/users',
      async (c, next) => {
        expect(await c.req.json()).toEqual({ name: 'ada' });
        await next();
      },
      kit.route({ input }),
      (c) => c.json(c.get('input')),
    );
    const res = await app.request('/users', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"ada"}',
    });
    expect(await res.json()).toEqual({ name: 'ada' });
  });

  it('answers a plugin reply or failure with the plugin headers, and finishes once', async () => {
    const finished: number[] = [];
    const kit = createHonoAdapter(
      createToolkit({
        plugins: [
          { name: 'tag', onRequest: (ctx) => ctx.setHeader('x-plugin', 'on') },
          {
            name: 'gate',
            onRequest: (ctx) => {
              if (ctx.request.header('x-deny') !== undefined) throw new ForbiddenError();
              return ctx.request.method === 'OPTIONS' ? { status: 204 } : undefined;
            },
          },
          { name: 'seen', onResponse: (_ctx, info) => finished.push(info.status) },
        ],
      }),
    );
    const app = kit.install(new Hono());
    app.get('/x', (c) => c.text('x'));

    const early = await app.request('/x', { method: 'OPTIONS' });
    expect(early.status).toBe(204);
    expect(early.headers.get('x-plugin')).toBe('on');
    const denied = await app.request('/x', { headers: { 'x-deny': '1' } });
    expect(denied.status).toBe(403);
    expect(denied.headers.get('content-type')).toBe(PROBLEM);
    expect(denied.headers.get('x-plugin')).toBe('on');
    await expect.poll(() => finished).toEqual([204, 403]);
  });

  it('runs the plugins for routes without the adapter, raw Responses and 404s', async () => {
    const seen: string[] = [];
    const kit = createHonoAdapter(
      createToolkit({
        plugins: [
          {
            name: 'headers',
            onRequest: (ctx) => {
              seen.push(ctx.request.path);
              ctx.setHeader('x-plugin', 'on');
              ctx.appendHeader('vary', 'Origin');
              ctx.appendHeader('set-cookie', 'p=1');
            },
          },
        ],
      }),
    );
    const app = kit.install(new Hono());
    // One plain handler, no kit.route: the plugins still run.
    app.get('/plain', (c) => {
      c.header('x-plugin', 'handler');
      c.header('vary', 'Accept', { append: true });
      c.header('set-cookie', 'h=1', { append: true });
      return c.text('plain');
    });
    // Response.redirect's headers are immutable: the plugin headers go on a copy.
    app.get('/redirect', () => Response.redirect('http://localhost/plain', 302));
    app.get(
      '/users/:id',
      kit.route({ info: routeInfo }, (c) => c.json(c.get('info'))),
    );

    const plain = await app.request('/plain');
    expect(plain.status).toBe(200);
    expect(await plain.text()).toBe('plain');
    // The handler's own value wins; list headers keep the plugin's values first.
    expect(plain.headers.get('x-plugin')).toBe('handler');
    expect(plain.headers.get('vary')).toBe('Origin, Accept');
    expect(plain.headers.getSetCookie()).toEqual(['p=1', 'h=1']);

    const redirect = await app.request('/redirect');
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('http://localhost/plain');
    expect(redirect.headers.get('x-plugin')).toBe('on');

    const routed = await app.request('/users/3');
    expect(await routed.json()).toEqual({ route: '/users/:id', params: { id: '3' } });
    expect(routed.headers.get('x-plugin')).toBe('on');
    expect(routed.headers.get('vary')).toBe('Origin');

    const missing = await app.request('/nowhere');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-plugin')).toBe('on');
    expect(seen).toEqual(['/plain', '/redirect', '/users/3', '/nowhere']);
  });

  it('refuses an install after routes, whose handlers would answer without it', () => {
    const app = new Hono();
    app.get('/early', (c) => c.text('early'));
    expect(() => createHonoAdapter(createToolkit()).install(app)).toThrow(
      /before adding routes or middleware/,
    );
  });

  it('refuses a second install on the same app', () => {
    const app = createHonoAdapter(createToolkit()).install(new Hono());
    expect(() => createHonoAdapter(createToolkit()).install(app)).toThrow(
      /already has a toolkit installed/,
    );
  });

  it('names the fix when the app was not installed', async () => {
    const kit = createHonoAdapter(createToolkit());
    const app = new Hono();
    let thrown: unknown;
    app.onError((error, c) => {
      thrown = error;
      return c.text('', 500);
    });
    app.get('/x', kit.route({ info: routeInfo }), (c) => c.json(c.get('info')));
    expect((await app.request('/x')).status).toBe(500);
    expect(thrown).toBeInstanceOf(ConfigurationError);
    expect(String(thrown)).toMatch(/kit\.install\(app\)/);
  });
});

describe('hono adapter headers on @hono/node-server (real HTTP)', () => {
  it('sends plugin headers on success and error responses, merges Vary, and lets a handler override', async () => {
    const kit = createHonoAdapter(
      createToolkit({
        plugins: [
          {
            name: 'headers',
            onRequest: (ctx) => {
              ctx.setHeader('x-plugin', 'on');
              ctx.appendHeader('x-list', 'a');
              ctx.appendHeader('x-list', 'b');
              ctx.appendHeader('vary', 'Origin');
              ctx.setHeader('x-removed', 'soon');
              ctx.removeHeader('x-removed');
              // Set-Cookie stays on hono's context: removing it must reach there too.
              ctx.appendHeader('set-cookie', 'a=1');
              ctx.removeHeader('set-cookie');
            },
          },
        ],
      }),
    );
    const app = kit.install(new Hono());
    app.get('/ok', (c) => c.json({ ok: true }));
    app.get('/own', (c) => {
      c.header('vary', 'Accept-Encoding', { append: true });
      c.header('x-plugin', 'handler');
      return c.json({ ok: true });
    });
    app.get('/fail', () => {
      throw new ForbiddenError();
    });
    const running = await listen(createAdaptorServer({ fetch: app.fetch }) as Server);
    try {
      const ok = await fetch(`${running.url}/ok`);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-plugin')).toBe('on');
      expect(ok.headers.get('x-list')).toBe('a, b');
      expect(ok.headers.get('vary')).toBe('Origin');
      expect(ok.headers.has('x-removed')).toBe(false);
      expect(ok.headers.has('set-cookie')).toBe(false);
      expect(ok.headers.get('content-type')).toMatch(/^application\/json/);

      const own = await fetch(`${running.url}/own`);
      expect(own.headers.get('x-plugin')).toBe('handler');
      expect(own.headers.get('vary')).toBe('Origin, Accept-Encoding');

      const failed = await fetch(`${running.url}/fail`);
      expect(failed.status).toBe(403);
      expect(failed.headers.get('content-type')).toBe(PROBLEM);
      expect(failed.headers.get('x-plugin')).toBe('on');
      expect(failed.headers.get('vary')).toBe('Origin');
      expect(await failed.json()).toMatchObject({ status: 403, code: 'ERR_FORBIDDEN' });
    } finally {
      await running.close();
    }
  });

  it('tears down a dependency that resolves after the client left, with nothing watching the response', async () => {
    const closed = deferred<void>();
    const started = deferred<void>();
    const late = teardownProbe();
    const kit = createHonoAdapter(createToolkit());
    const app = kit.install(new Hono<{ Bindings: { outgoing: ServerResponse } }>());
    app.get('/late', async (c) => {
      // The test's own watch: the toolkit adds none for this request.
      c.env.outgoing.on('close', () => closed.resolve());
      started.resolve();
      await closed.promise;
      await kit.context(c).resolve(late.dependency);
      return c.text('nobody is listening');
    });
    const running = await listen(createAdaptorServer({ fetch: app.fetch }) as Server);
    try {
      await abandonRequest(`${running.url}/late`, started.promise);
      expect(await late.tornDown).toMatchObject({ status: 0, aborted: true, failed: true });
    } finally {
      await running.close();
    }
  });

  it('runs the handler given to kit.route, with sync and async dependencies, and teardowns after the response', async () => {
    const outcomes: RequestOutcome[] = [];
    const tx = defineDependency({
      name: 'tx',
      resolve: async () => 'tx',
      teardown: (_value, outcome) => {
        outcomes.push(outcome);
      },
    });
    const denied = defineDependency({
      name: 'denied',
      resolve: (): string => {
        throw new ForbiddenError({ detail: 'Not yours.' });
      },
    });
    const kit = createHonoAdapter(createToolkit());
    const app = kit.install(new Hono());
    app.get(
      '/users/:id',
      kit.route({ info: routeInfo }, (c) => c.json(c.get('info'))),
    );
    app.get(
      '/tx',
      kit.route({ tx, info: routeInfo }, async (c) =>
        c.json({ tx: c.get('tx'), ...c.get('info') }),
      ),
    );
    app.get(
      '/denied',
      kit.route({ denied }, (c) => c.json({ never: c.get('denied') })),
    );
    const running = await listen(createAdaptorServer({ fetch: app.fetch }) as Server);
    try {
      const sync = await fetch(`${running.url}/users/7`);
      expect(sync.status).toBe(200);
      expect(await sync.json()).toEqual({ route: '/users/:id', params: { id: '7' } });

      const async = await fetch(`${running.url}/tx`);
      expect(async.status).toBe(200);
      expect(await async.json()).toEqual({ tx: 'tx', route: '/tx', params: {} });
      await expect.poll(() => outcomes.length).toBe(1);
      expect(outcomes[0]).toMatchObject({ status: 200, failed: false, aborted: false });

      const refused = await fetch(`${running.url}/denied`);
      expect(refused.status).toBe(403);
      expect(refused.headers.get('content-type')).toBe(PROBLEM);
      expect(await refused.json()).toMatchObject({
        status: 403,
        code: 'ERR_FORBIDDEN',
        detail: 'Not yours.',
      });
    } finally {
      await running.close();
    }
  });
});

describe('kit.requestErrorHandler on @hono/node-server', () => {
  it('answers what node-server cannot read as a Request with a 400 problem', async () => {
    const kit = createHonoAdapter(createToolkit());
    const app = kit.install(new Hono()).get('/', (c) => c.text('ok'));
    const server = createServer(
      getRequestListener(app.fetch, { errorHandler: kit.requestErrorHandler }),
    );
    const running = await listen(server);
    try {
      for (const target of ['*', '/a\\b']) {
        const answer = await rawExchange(
          running.url,
          `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
        );
        expect(answer, target).toMatch(/^HTTP\/1\.1 400 /);
        expect(answer.toLowerCase()).toContain('content-type: application/problem+json');
        expect(answer).toContain('"code":"ERR_BAD_REQUEST"');
      }
    } finally {
      await running.close();
    }
    // Anything else node-server passes on is the toolkit's problem for it (a 500 here).
    const other = kit.requestErrorHandler(new Error('boom'));
    expect(other.status).toBe(500);
    expect(await other.text()).not.toContain('boom');
  });
});
