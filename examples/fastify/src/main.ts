/**
 * The users API on Fastify 5. The adapter registers as one app-wide plugin (request
 * hooks, error and 404 handlers, body reading with the toolkit's limits), and every
 * route's dependencies are resolved onto `request` (`request.user`, `request.admin`).
 */
import { createFastifyAdapter } from '@org/core/fastify';
import { startExample } from '@org/example-domain';
import Fastify from 'fastify';

await startExample('fastify', async (api) => {
  const kit = createFastifyAdapter(api.toolkit);
  // Problems also for what fastify answers before any plugin: parser errors, bad URLs.
  const app = Fastify({ ...kit.serverOptions, logger: false });
  await app.register(kit.plugin);
  for (const route of api.routes) {
    const names = Object.keys(route.dependencies);
    app.route({
      method: route.method,
      url: route.path,
      handler: kit.route(route.dependencies, async (request, reply) => {
        const values = Object.fromEntries(names.map((name) => [name, Reflect.get(request, name)]));
        const out = await route.handler(kit.context(request), values);
        reply.code(out.status ?? 200);
        if (out.headers !== undefined) reply.headers(out.headers);
        return reply.send(out.body);
      }),
    });
  }
  // The shared runner listens and drains; fastify only has to be ready.
  await app.ready();
  return app.server;
});
