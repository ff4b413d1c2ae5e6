/**
 * Builds (without starting) one app object per adapter, the framework-neutral routes
 * mounted with its `mount`, so the requester meets each framework's own app object: a fastify
 * instance (inject), a hono app (app.request), an express function, a koa app and
 * an @org/core/node app (both over a loopback port the requester opens).
 */
import Router from '@koa/router';
import { defineRoute, type Route, type Toolkit } from '@org/core';
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

type Builder = (toolkit: Toolkit, routes: readonly Route[]) => Promise<BuiltApp>;

const noop = async () => {};

const builders: Record<AdapterName, Builder> = {
  async express(toolkit, routes) {
    const kit = createExpressAdapter(toolkit);
    const app = express();
    app.use(kit.middleware);
    kit.mount(app, routes);
    app.use(kit.notFound, kit.errorHandler);
    return { app, close: noop };
  },
  async fastify(toolkit, routes) {
    const app = Fastify();
    const kit = createFastifyAdapter(toolkit);
    await app.register(kit.plugin);
    kit.mount(app, routes);
    return { app, close: () => app.close() };
  },
  async koa(toolkit, routes) {
    const kit = createKoaAdapter(toolkit);
    const router = kit.mount(new Router(), routes);
    const app = new Koa();
    app.use(kit.middleware).use(router.routes()).use(router.allowedMethods());
    return { app, close: noop };
  },
  async hono(toolkit, routes) {
    const kit = createHonoAdapter(toolkit);
    return { app: kit.mount(kit.install(new Hono()), routes), close: noop };
  },
  async node(toolkit, routes) {
    return { app: createNodeAdapter(toolkit).mount(routes), close: noop };
  },
};

/** Builds the app object of `adapter` serving `routes`. */
export function buildApp(
  adapter: AdapterName,
  toolkit: Toolkit,
  routes: readonly RouteSpec[],
): Promise<BuiltApp> {
  return builders[adapter](toolkit, routes.map(defineRoute));
}
