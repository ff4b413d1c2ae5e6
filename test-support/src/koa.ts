import { createServer } from 'node:http';
import Router from '@koa/router';
import { createKoaAdapter } from '@org/core/koa';
import Koa from 'koa';
import type { AdapterFixture } from './fixture.js';
import { listen } from './listen.js';

/** Mounts each route with `kit.route` on `@koa/router` and reads values back from `ctx.state`. */
export const koaFixture: AdapterFixture = {
  name: 'koa',
  start(toolkit, routes) {
    const kit = createKoaAdapter(toolkit);
    const router = new Router();
    for (const route of routes) {
      const dependencies = route.dependencies ?? {};
      const names = Object.keys(dependencies);
      router.register(
        route.path,
        [route.method],
        kit.route(dependencies, async (ctx) => {
          const state = ctx.state as Record<string, unknown>;
          const values = Object.fromEntries(names.map((name) => [name, state[name]]));
          const reply = await route.handler(kit.context(ctx), values);
          if (reply?.headers) ctx.set(reply.headers);
          ctx.body = reply?.body ?? null;
          ctx.status = reply === undefined ? 204 : (reply.status ?? 200);
        }),
      );
    }
    const app = new Koa();
    app.use(kit.middleware);
    app.use(router.routes());
    app.use(router.allowedMethods());
    return listen(createServer(app.callback()));
  },
};
