/**
 * The users API on Hono, served by @hono/node-server. `kit.install` puts the toolkit
 * in front of `app.fetch` and sets the error and 404 handlers; `kit.route(deps)` puts each
 * resolved value in `c.get(name)`; `kit.endpoint` sends a framework-neutral reply.
 */
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { clientErrorHandler } from '@org/core';
import { createHonoAdapter } from '@org/core/hono';
import { startExample } from '@org/example-domain';
import { Hono } from 'hono';

await startExample('hono', (api) => {
  const kit = createHonoAdapter(api.toolkit);
  const app = kit.install(new Hono());
  for (const route of api.routes) {
    const names = Object.keys(route.dependencies);
    app.on(
      route.method,
      route.path,
      kit.route(route.dependencies),
      kit.endpoint<{ Variables: Record<string, unknown> }>((ctx, c) =>
        route.handler(ctx, Object.fromEntries(names.map((name) => [name, c.get(name)]))),
      ),
    );
  }
  // A plain HTTP/1.1 node:http server, so the shared runner can listen and drain it.
  // Requests Node's HTTP parser rejects are answered as problems too.
  return (createAdaptorServer({ fetch: app.fetch }) as Server).on(
    'clientError',
    clientErrorHandler,
  );
});
