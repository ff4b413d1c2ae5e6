/**
 * The users API on Hono, served by @hono/node-server. `kit.install` puts the toolkit
 * in front of `app.fetch` and sets the error and 404 handlers; `kit.mount` registers the
 * shared framework-neutral routes.
 */
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { clientErrorHandler } from '@org/core';
import { createHonoAdapter } from '@org/core/hono';
import { startExample } from '@org/example-domain';
import { Hono } from 'hono';

await startExample('hono', (api) => {
  const kit = createHonoAdapter(api.toolkit);
  const app = kit.mount(kit.install(new Hono()), api.routes);
  // A plain HTTP/1.1 node:http server, so the shared runner can listen and drain it.
  // Requests Node's HTTP parser rejects are answered as problems too.
  return (createAdaptorServer({ fetch: app.fetch }) as Server).on(
    'clientError',
    clientErrorHandler,
  );
});
