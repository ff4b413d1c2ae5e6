/**
 * The users API on plain `node:http`: the adapter's own router mounts the shared
 * framework-neutral routes, as every other adapter does.
 */
import { createServer } from 'node:http';
import { createNodeAdapter } from '@org/core/node';
import { startExample } from '@org/example-domain';

await startExample('node:http', (api) => {
  const app = createNodeAdapter(api.toolkit).mount(api.routes);
  return createServer(app.handler);
});
