import Router from '@koa/router';
import {
  type Context,
  createToolkit,
  defineDependency,
  defineRoute,
  type Reply,
  type Route,
  type RouteHandler,
  requestBody,
} from '@org/core';
import { createExpressAdapter } from '@org/core/express';
import { createFastifyAdapter } from '@org/core/fastify';
import { createHonoAdapter } from '@org/core/hono';
import { createKoaAdapter } from '@org/core/koa';
import { createNodeAdapter, type NodeApp } from '@org/core/node';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { Hono } from 'hono';
import { describe, expectTypeOf, it } from 'vitest';
import * as z from 'zod';

interface User {
  id: string;
  roles: readonly string[];
}

const currentUser = defineDependency({
  name: 'currentUser',
  resolve: async (): Promise<User> => ({ id: '1', roles: [] }),
});
const limit = defineDependency({ name: 'limit', resolve: () => 10 });
const NewPost = z.object({ title: z.string() });
const toolkit = createToolkit();

describe('route types', () => {
  it('types the handler’s values from the dependencies', () => {
    defineRoute({
      method: 'POST',
      path: '/posts',
      dependencies: { user: currentUser, limit, input: requestBody(NewPost) },
      handler: (ctx, values) => {
        expectTypeOf(ctx).toEqualTypeOf<Context>();
        expectTypeOf(values).toEqualTypeOf<{
          user: User;
          limit: number;
          input: { title: string };
        }>();
        // @ts-expect-error: not a dependency of this route
        values.other;
        return { status: 201, body: values.input };
      },
    });
    defineRoute({
      method: 'GET',
      path: '/healthz',
      handler: (_ctx, values) => {
        expectTypeOf(values).toEqualTypeOf<Record<never, never>>();
        return { body: 'ok' };
      },
    });
  });

  it('takes sync, async and bodiless handlers, and nothing but a Reply', () => {
    defineRoute({ method: 'DELETE', path: '/x', handler: async () => {} });
    defineRoute({ method: 'DELETE', path: '/x', handler: () => undefined });
    defineRoute({ method: 'GET', path: '/x', handler: async () => ({ body: [1] }) });
    // @ts-expect-error: a handler returns a Reply, not a bare body
    defineRoute({ method: 'GET', path: '/x', handler: () => 'text' });
    // @ts-expect-error: a method no adapter mounts
    defineRoute({ method: 'TRACE', path: '/x', handler: () => undefined });
    expectTypeOf<RouteHandler<{ limit: typeof limit }>>().toEqualTypeOf<
      (ctx: Context, values: { limit: number }) => Reply | undefined | Promise<Reply | undefined>
    >();
  });

  it('puts routes of any dependencies in one list, with their OpenAPI fields', () => {
    const me = defineRoute({
      method: 'GET',
      path: '/me',
      summary: 'The caller',
      responses: { 200: 'The user.', 401: 'No token.' },
      dependencies: { user: currentUser },
      handler: (_ctx, { user }) => ({ body: user }),
    });
    expectTypeOf(me).toEqualTypeOf<Route<{ user: typeof currentUser }>>();
    const routes: Route[] = [
      me,
      defineRoute({ method: 'GET', path: '/n', handler: () => undefined }),
    ];
    expectTypeOf(toolkit.routes).toEqualTypeOf<readonly Route[]>();
    expectTypeOf(routes).toExtend<typeof toolkit.routes>();
  });
});

describe('mount types', () => {
  const routes: readonly Route[] = [];

  it('mounts on each framework’s own app or router and gives it back', () => {
    const app = express();
    expectTypeOf(createExpressAdapter(toolkit).mount(app, routes)).toEqualTypeOf(app);
    const router = express.Router();
    expectTypeOf(createExpressAdapter(toolkit).mount(router, routes)).toEqualTypeOf(router);
    expectTypeOf(
      createFastifyAdapter(toolkit).mount(Fastify(), routes),
    ).toEqualTypeOf<FastifyInstance>();
    const koaRouter = new Router();
    expectTypeOf(createKoaAdapter(toolkit).mount(koaRouter, routes)).toEqualTypeOf(koaRouter);
    const hono = new Hono<{ Variables: { tenant: string } }>().basePath('/api');
    expectTypeOf(createHonoAdapter(toolkit).mount(hono, routes)).toEqualTypeOf(hono);
    expectTypeOf(createNodeAdapter(toolkit).mount(routes)).toEqualTypeOf<NodeApp>();
  });

  it('takes only routes', () => {
    // @ts-expect-error: a handler alone is not a route
    createNodeAdapter(toolkit).mount([() => ({ body: 1 })]);
    // @ts-expect-error: express mounts on an app or a router
    createExpressAdapter(toolkit).mount({}, routes);
  });
});
