/**
 * The users API on plain `node:http`: the adapter's own router takes the neutral
 * routes as they are, since its handlers already are `(ctx, values) => reply`.
 */
import { createServer } from 'node:http';
import { clientErrorHandler } from '@org/core';
import { createNodeAdapter } from '@org/core/node';
import { startExample } from '@org/example-domain';

await startExample('node:http', (api) => {
  const app = createNodeAdapter(api.toolkit);
  for (const route of api.routes) {
    app.route(route.method, route.path, route.dependencies, route.handler);
  }
  // Requests Node's HTTP parser rejects are answered as problems too.
  return createServer(app.handler).on('clientError', clientErrorHandler);
});
