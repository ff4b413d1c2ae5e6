import type { AddressInfo } from 'node:net';
import { createFastifyAdapter } from '@org/core/fastify';
import Fastify from 'fastify';
import type { AdapterFixture } from './fixture.js';

export const fastifyFixture: AdapterFixture = {
  name: 'fastify',
  async start(toolkit, routes) {
    // Real HTTP on a loopback port, not inject: the abort and streaming cases need a socket.
    const kit = createFastifyAdapter(toolkit);
    const app = Fastify({ ...kit.serverOptions, forceCloseConnections: true });
    await app.register(kit.plugin);
    for (const spec of routes) {
      const dependencies = spec.dependencies ?? {};
      const names = Object.keys(dependencies);
      app.route({
        method: spec.method,
        url: spec.path,
        handler: kit.route(dependencies, async (request, reply) => {
          // Read the values back from `request`, so exposure is tested too.
          const exposed = request as unknown as Record<string, unknown>;
          const values = Object.fromEntries(names.map((name) => [name, exposed[name]]));
          const out = await spec.handler(kit.context(request), values);
          if (out === undefined) return reply.code(204).send();
          reply.code(out.status ?? 200);
          if (out.headers !== undefined) reply.headers(out.headers);
          return reply.send(out.body);
        }),
      });
    }
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
  },
};
