/**
 * Builds (without starting) one app object per adapter from framework-neutral
 * routes, so the requester meets each framework's own app object: a fastify
 * instance (inject), a hono app (app.request), an express function, a koa app and
 * an @org/core/node app (both over a loopback port the requester opens).
 */
import Router from '@koa/router';
import type { Toolkit } from '@org/core';
import { createExpressAdapter } from '@org/core/express';
import { createFastifyAdapter } from '@org/core/fastify';
import { createHonoAdapter } from '@org/core/hono';
import { createKoaAdapter } from '@org/core/koa';
import { createNodeAdapter } from '@org/core/node';
import type { AdapterName, RouteSpec } from '@org/test-support';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';

export type { AdapterName, RouteSpec } from '@org/test-support';

/** An app object, ready for `createRequester`. */
export interface BuiltApp {
  readonly app: object;
  /** Frees what the framework holds (fastify's instance); the requester closes its own server. */
  close(): Promise<void>;
}

type Builder = (toolkit: Toolkit, routes: readonly RouteSpec[]) => Promise<BuiltApp>;

const noop = async () => {};

const builders: Record<AdapterName, Builder> = {
  async express(toolkit, routes) {
    const kit = createExpressAdapter(toolkit);
    const app = express();
    app.use(kit.middleware);
    for (const spec of routes) {
      const method = spec.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
      app[method](
        spec.path,
        kit.endpoint((ctx) => routeReply(spec, ctx)),
      );
    }
    app.use(kit.notFound, kit.errorHandler);
    return { app, close: noop };
  },
  async fastify(toolkit, routes) {
    const app = Fastify();
    const kit = createFastifyAdapter(toolkit);
    await app.register(kit.plugin);
    for (const spec of routes) {
      app.route({
        method: spec.method,
        url: spec.path,
        handler: kit.endpoint((ctx) => routeReply(spec, ctx)),
      });
    }
    return { app, close: () => app.close() };
  },
  async koa(toolkit, routes) {
    const kit = createKoaAdapter(toolkit);
    const router = new Router();
    for (const spec of routes) {
      router.register(
        spec.path,
        [spec.method],
        kit.endpoint((ctx) => routeReply(spec, ctx)),
      );
    }
    const app = new Koa();
    app.use(kit.middleware).use(router.routes()).use(router.allowedMethods());
    return { app, close: noop };
  },
  async hono(toolkit, routes) {
    const kit = createHonoAdapter(toolkit);
    const app = kit.install(new Hono());
    for (const spec of routes) {
      app.on(
        spec.method,
        spec.path,
        kit.endpoint((ctx) => routeReply(spec, ctx)),
      );
    }
    return { app, close: noop };
  },
  async node(toolkit, routes) {
    const app = createNodeAdapter(toolkit);
    for (const spec of routes) {
      app.route(spec.method, spec.path, spec.dependencies ?? {}, (ctx, values) =>
        spec.handler(ctx, values),
      );
    }
    return { app, close: noop };
  },
};

/** Resolves the spec's dependencies through the context, then runs its handler. */
async function routeReply(spec: RouteSpec, ctx: Parameters<RouteSpec['handler']>[0]) {
  const entries = Object.entries(spec.dependencies ?? {});
  const values: Record<string, unknown> = {};
  for (const [name, dependency] of entries) values[name] = await ctx.resolve(dependency);
  return (await spec.handler(ctx, values)) ?? { status: 204 };
}

/** Builds the app object of `adapter` serving `routes`. */
export function buildApp(
  adapter: AdapterName,
  toolkit: Toolkit,
  routes: readonly RouteSpec[],
): Promise<BuiltApp> {
  return builders[adapter](toolkit, routes);
}
