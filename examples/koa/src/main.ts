/**
 * The users API on Koa 3 with @koa/router. The toolkit's middleware goes first, so it
 * sees every error; `kit.route` resolves each route's dependencies into `ctx.state`.
 */
import { createServer } from 'node:http';
import Router from '@koa/router';
import { clientErrorHandler } from '@org/core';
import { createKoaAdapter } from '@org/core/koa';
import { startExample } from '@org/example-domain';
import Koa from 'koa';

await startExample('koa', (api) => {
  const kit = createKoaAdapter(api.toolkit);
  const router = new Router();
  for (const route of api.routes) {
    const names = Object.keys(route.dependencies);
    router.register(
      route.path,
      [route.method],
      kit.route(route.dependencies, async (ctx) => {
        const state = ctx.state as Record<string, unknown>; // ctx.state.user, ctx.state.admin...
        const reply = await route.handler(
          kit.context(ctx),
          Object.fromEntries(names.map((name) => [name, state[name]])),
        );
        if (reply.headers !== undefined) ctx.set(reply.headers);
        ctx.body = reply.body ?? null;
        ctx.status = reply.status ?? 200; // after the body: a null body would make it 204
      }),
    );
  }
  const app = new Koa();
  app.use(kit.middleware);
  app.use(router.routes()).use(router.allowedMethods());
  // Requests Node's HTTP parser rejects are answered as problems too.
  return createServer(app.callback()).on('clientError', clientErrorHandler);
});
