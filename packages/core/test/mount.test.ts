// `mount` on each of the five frameworks, over real HTTP: the same neutral routes, the
// same answers, and `toolkit.routes` (and so the OpenAPI document) listing what is served.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import Router from '@koa/router';
import {
  ConflictError,
  createOpenApiDocument,
  createToolkit,
  defineDependency,
  defineRoute,
  type Route,
  requestParams,
  type Toolkit,
  UnauthorizedError,
} from '@org/core';
import { createExpressAdapter } from '@org/core/express';
import { createFastifyAdapter } from '@org/core/fastify';
import { createHonoAdapter } from '@org/core/hono';
import { createKoaAdapter } from '@org/core/koa';
import { createNodeAdapter } from '@org/core/node';
import { listen, type NodeServer, type RunningApp } from '@org/test-support';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import * as z from 'zod';

const PROBLEM = 'application/problem+json';

type Start = (toolkit: Toolkit, routes: readonly Route[]) => Promise<RunningApp>;

/** Each framework with only its adapter's attachment and `mount`: nothing else to send replies. */
const frameworks: readonly { name: string; start: Start }[] = [
  {
    name: 'express',
    start(toolkit, routes) {
      const kit = createExpressAdapter(toolkit);
      const app = express();
      app.use(kit.middleware);
      kit.mount(app, routes);
      app.use(kit.notFound, kit.errorHandler);
      return listen(createServer(app));
    },
  },
  {
    name: 'fastify',
    async start(toolkit, routes) {
      const kit = createFastifyAdapter(toolkit);
      const app = Fastify({ ...kit.serverOptions, forceCloseConnections: true });
      await app.register(kit.plugin);
      kit.mount(app, routes);
      await app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = app.server.address() as AddressInfo;
      return {
        url: `http://127.0.0.1:${port}`,
        transport: 'http',
        server: app.server,
        close: () => app.close(),
      };
    },
  },
  {
    name: 'koa',
    start(toolkit, routes) {
      const kit = createKoaAdapter(toolkit);
      const router = kit.mount(new Router(), routes);
      const app = new Koa();
      app.use(kit.middleware).use(router.routes()).use(router.allowedMethods());
      return listen(createServer(app.callback()));
    },
  },
  {
    name: 'hono',
    start(toolkit, routes) {
      const kit = createHonoAdapter(toolkit);
      const app = kit.mount(kit.install(new Hono()), routes);
      return listen(createAdaptorServer({ fetch: app.fetch }) as NodeServer);
    },
  },
  {
    name: 'node',
    start(toolkit, routes) {
      const app = createNodeAdapter(toolkit).mount(routes);
      return listen(createServer(app.handler));
    },
  },
];

const ItemParams = z.object({ id: z.string().regex(/^\d+$/) });

/** The caller, from a header: 401 without it. */
const caller = defineDependency({
  name: 'caller',
  resolve: (ctx) => {
    const name = ctx.request.header('x-caller');
    if (name === undefined) throw new UnauthorizedError({ detail: 'Say who you are.' });
    return { name };
  },
});
/** Named as fields of express's, fastify's and koa's own objects: values stay off them. */
const body = defineDependency({ name: 'body', resolve: () => 'not the request body' });
const params = defineDependency({ name: 'params', resolve: async () => 'not the route params' });

const routes = [
  defineRoute({
    method: 'GET',
    path: '/items/:id',
    operationId: 'getItem',
    summary: 'One item',
    dependencies: { caller, item: requestParams(ItemParams) },
    handler: (ctx, { caller, item }) => ({
      headers: { 'x-route': String(ctx.request.route) },
      body: { id: item.id, by: caller.name },
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/items',
    dependencies: { body, params },
    handler: async (_ctx, values) => ({ status: 201, body: values }),
  }),
  defineRoute({
    method: 'DELETE',
    path: '/items/:id',
    handler: () => undefined,
  }),
  defineRoute({
    method: 'PUT',
    path: '/conflict',
    handler: async () => {
      throw new ConflictError({ detail: 'Taken.' });
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/text',
    hidden: true,
    handler: () => ({ headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'plain' }),
  }),
];

describe.each(frameworks)('mount on $name', ({ start }) => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const serve = async (toolkit: Toolkit = createToolkit()) => {
    app = await start(toolkit, routes);
    return app.url;
  };

  it('answers with the reply, typed values from the dependencies and the path params', async () => {
    const url = await serve();
    const res = await fetch(`${url}/items/42`, { headers: { 'x-caller': 'ada' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('x-route')).toBe('/items/:id');
    expect(await res.json()).toEqual({ id: '42', by: 'ada' });
  });

  it('sends 201 with the values of async dependencies, never fields of the framework’s request', async () => {
    const url = await serve();
    const res = await fetch(`${url}/items`, { method: 'POST' });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({
      body: 'not the request body',
      params: 'not the route params',
    });
  });

  it('sends 204 without a body for an undefined result', async () => {
    const url = await serve();
    const res = await fetch(`${url}/items/7`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(res.headers.get('content-type')).toBeNull();
    expect(await res.text()).toBe('');
  });

  it('answers a thrown HttpError and a failed dependency as problems', async () => {
    const url = await serve();
    const conflict = await fetch(`${url}/conflict`, { method: 'PUT' });
    expect(conflict.status).toBe(409);
    expect(conflict.headers.get('content-type')).toBe(PROBLEM);
    expect(await conflict.json()).toMatchObject({
      status: 409,
      code: 'ERR_CONFLICT',
      detail: 'Taken.',
    });

    const anonymous = await fetch(`${url}/items/42`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toBe(PROBLEM);
    expect(await anonymous.json()).toMatchObject({ status: 401, detail: 'Say who you are.' });

    const invalid = await fetch(`${url}/items/abc`, { headers: { 'x-caller': 'ada' } });
    expect(invalid.status).toBe(422);
    expect((await invalid.json()).errors[0]).toMatchObject({ location: 'params', pointer: '/id' });
  });

  it('sends a string body as it is, with the reply’s content type', async () => {
    const url = await serve();
    const res = await fetch(`${url}/text`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await res.text()).toBe('plain');
  });

  it('answers HEAD for a GET route, and 405 with Allow for another method', async () => {
    const url = await serve();
    const head = await fetch(`${url}/items/42`, { method: 'HEAD', headers: { 'x-caller': 'ada' } });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const patch = await fetch(`${url}/items/42`, { method: 'PATCH' });
    expect(patch.status).toBe(405);
    expect(patch.headers.get('content-type')).toBe(PROBLEM);
    expect(String(patch.headers.get('allow')).split(/,\s*/).sort()).toEqual([
      'DELETE',
      'GET',
      'HEAD',
    ]);
  });

  it('runs the plugins for a mounted route, and their headers stay', async () => {
    const url = await serve(
      createToolkit({
        plugins: [{ name: 'tag', onRequest: (ctx) => ctx.setHeader('x-tag', 'seen') }],
      }),
    );
    const ok = await fetch(`${url}/items/1`, { method: 'DELETE' });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('x-tag')).toBe('seen');
    const failed = await fetch(`${url}/conflict`, { method: 'PUT' });
    expect(failed.status).toBe(409);
    expect(failed.headers.get('x-tag')).toBe('seen');
  });

  it('records exactly the mounted routes, so the OpenAPI document lists what is served', async () => {
    const toolkit = createToolkit();
    expect(toolkit.routes).toEqual([]);
    await serve(toolkit);
    expect(toolkit.routes.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /items/:id',
      'POST /items',
      'DELETE /items/:id',
      'PUT /conflict',
      'GET /text',
    ]);
    const document = createOpenApiDocument({
      info: { title: 'Items', version: '1.0.0' },
      routes: toolkit.routes,
    });
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method} ${path}`),
    );
    // The hidden route is served but not documented.
    expect(operations.sort()).toEqual([
      'delete /items/{id}',
      'get /items/{id}',
      'post /items',
      'put /conflict',
    ]);
    expect(document.paths['/items/{id}']?.get).toMatchObject({
      operationId: 'getItem',
      parameters: [{ name: 'id', in: 'path', required: true }],
    });
  });
});

describe('mount', () => {
  const one = [defineRoute({ method: 'GET', path: '/x', handler: () => ({ body: 1 }) })];

  it('records a route mounted on a second app of the same toolkit once', () => {
    const toolkit = createToolkit();
    createNodeAdapter(toolkit).mount(one);
    createNodeAdapter(toolkit).mount(one);
    expect(toolkit.routes).toHaveLength(1);
  });

  it('records the prefix a koa router or a fastify plugin adds', async () => {
    const toolkit = createToolkit();
    const router = createKoaAdapter(toolkit).mount(new Router({ prefix: '/koa' }), one);
    expect(router.match('/koa/x', 'GET').route).toBe(true);
    const kit = createFastifyAdapter(toolkit);
    const app = Fastify();
    await app.register(kit.plugin);
    await app.register(async (child) => void kit.mount(child, one), { prefix: '/fastify' });
    await app.ready();
    const res = await app.inject({ method: 'GET', url: '/fastify/x' });
    expect(res.statusCode).toBe(200);
    expect(toolkit.routes.map((r) => r.path)).toEqual(['/koa/x', '/fastify/x']);
    await app.close();
  });

  it('refuses at start-up what no adapter can mount', () => {
    const app = createNodeAdapter(createToolkit());
    const bad = (route: object) => () => app.mount([route as Route]);
    expect(bad({ method: 'TRACE', path: '/x', handler: () => undefined })).toThrow(/TRACE \/x/);
    expect(bad({ method: 'GET', path: 'x', handler: () => undefined })).toThrow(/GET x/);
    expect(bad({ method: 'GET', path: '/x' })).toThrow(/no handler/);
  });

  it('needs kit.install before mounting on hono', () => {
    const kit = createHonoAdapter(createToolkit());
    expect(() => kit.mount(new Hono(), one)).toThrow(/kit\.install\(app\)/);
  });
});
