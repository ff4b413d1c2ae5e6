/**
 * The users API on Koa 3 with @koa/router. The toolkit's middleware goes first, so it
 * sees every error; `kit.mount` registers the shared framework-neutral routes on the router.
 */
import { createServer } from 'node:http';
import Router from '@koa/router';
import { createKoaAdapter } from '@org/core/koa';
import { startExample } from '@org/example-domain';
import Koa from 'koa';

await startExample('koa', (api) => {
  const kit = createKoaAdapter(api.toolkit);
  const router = kit.mount(new Router(), api.routes);
  const app = new Koa();
  app.use(kit.middleware);
  app.use(router.routes()).use(router.allowedMethods());
  return createServer(app.callback());
});
