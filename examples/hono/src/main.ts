/**
 * The users API on Hono, served by @hono/node-server. `kit.install` puts the toolkit
 * in front of `app.fetch` and sets the error and 404 handlers; `kit.mount` registers the
 * shared framework-neutral routes.
 */
import { createServer } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { createHonoAdapter } from '@org/core/hono';
import { startExample } from '@org/example-domain';
import { Hono } from 'hono';

await startExample('hono', (api) => {
  const kit = createHonoAdapter(api.toolkit);
  const app = kit.mount(kit.install(new Hono()), api.routes);
  // A plain node:http server, so the shared runner can listen and drain it; what
  // node-server cannot read as a Request (a malformed target) is a problem too.
  return createServer(getRequestListener(app.fetch, { errorHandler: kit.requestErrorHandler }));
});
