/**
 * The users API on Fastify 5. The adapter registers as one app-wide plugin (request
 * hooks, error and 404 handlers, body reading with the toolkit's limits), and
 * `kit.mount` registers the shared framework-neutral routes.
 */
import { createFastifyAdapter } from '@org/core/fastify';
import { startExample } from '@org/example-domain';
import Fastify from 'fastify';

await startExample('fastify', async (api) => {
  const kit = createFastifyAdapter(api.toolkit);
  // Problems also for what fastify answers before any plugin: parser errors, bad URLs.
  const app = Fastify({ ...kit.serverOptions, logger: false });
  await app.register(kit.plugin);
  kit.mount(app, api.routes);
  // The shared runner listens and drains; fastify only has to be ready.
  await app.ready();
  return app.server;
});
