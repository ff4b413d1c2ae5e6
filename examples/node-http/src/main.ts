/**
 * The users API on plain `node:http`: the adapter's own router mounts the shared
 * framework-neutral routes, as every other adapter does.
 */
import { createServer } from 'node:http';
import { clientErrorHandler } from '@org/core';
import { createNodeAdapter } from '@org/core/node';
import { startExample } from '@org/example-domain';

await startExample('node:http', (api) => {
  const app = createNodeAdapter(api.toolkit).mount(api.routes);
  // Requests Node's HTTP parser rejects are answered as problems too.
  return createServer(app.handler).on('clientError', clientErrorHandler);
});
