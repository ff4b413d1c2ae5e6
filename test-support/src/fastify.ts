import { createReadStream } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { defineRoute } from '@org/core';
import { createFastifyAdapter } from '@org/core/fastify';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { FileBody, fileLength, StreamBody } from './bodies.js';
import type { AdapterFixture } from './fixture.js';
import type { NodeServer } from './transport.js';
import { chooseTransport, schemeOf, trackConnections } from './transport.js';

/** Fastify's own server for the transport (`https`, or `http2` with `allowHTTP1`). */
function serverOptions(options: ReturnType<typeof chooseTransport>) {
  const { transport, tls } = options;
  if (transport === 'https') return { https: { ...tls } };
  if (transport === 'http2') return { http2: true, https: { ...tls, allowHTTP1: true } } as const;
  return {};
}

/** Each route through `kit.mount`; a `native` one through `kit.route`, its values read back from `request`. */
export const fastifyFixture: AdapterFixture = {
  name: 'fastify',
  transports: ['http', 'https', 'http2'],
  async start(toolkit, routes, options) {
    const chosen = chooseTransport('fastify', fastifyFixture.transports, options);
    // Real HTTP on a loopback port, not inject: the abort and streaming cases need a socket.
    const kit = createFastifyAdapter(toolkit);
    // Fastify's types pick the server from the literal options, and this transport is
    // chosen at run time; the routes below are the same on each.
    const settings = {
      ...kit.serverOptions,
      ...serverOptions(chosen),
      forceCloseConnections: true,
    };
    const app = Fastify(settings as FastifyServerOptions) as unknown as FastifyInstance;
    const cutConnections = trackConnections(app.server);
    await app.register(kit.plugin);
    for (const spec of routes) {
      if (spec.native !== true) {
        kit.mount(app, [defineRoute(spec)]);
        continue;
      }
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
          const { body } = out;
          if (body instanceof FileBody) {
            reply.type(body.type).header('content-length', await fileLength(body));
            return reply.send(createReadStream(body.path));
          }
          if (!(body instanceof StreamBody)) return reply.send(body);
          // Fastify sets a stream's headers without writing them; flushing is Node's.
          reply.send(body.stream);
          if (body.flushHeaders) reply.raw.flushHeaders();
          return reply;
        }),
      });
    }
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    return {
      url: `${schemeOf(chosen.transport)}://127.0.0.1:${port}`,
      transport: chosen.transport,
      server: app.server as NodeServer,
      close: async () => {
        cutConnections();
        await app.close();
      },
    };
  },
};
