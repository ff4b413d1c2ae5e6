/**
 * The users API on Fastify 5. The adapter registers as one app-wide plugin (request
 * hooks, error and 404 handlers, body reading with the toolkit's limits), and
 * `kit.mount` registers the shared framework-neutral routes. `GET /api/v1/ws` is a
 * `@fastify/websocket` route: fastify's hooks run the toolkit's plugins on the upgrade
 * and `kit.webSocket` resolves the principal before the `101`.
 */
import fastifyWebsocket from '@fastify/websocket';
import { webSocketProtocols } from '@org/core';
import { createFastifyAdapter } from '@org/core/fastify';
import { closeWebSockets, converse, MAX_MESSAGE_BYTES, startExample } from '@org/example-domain';
import Fastify from 'fastify';

await startExample('fastify', async (api) => {
  const kit = createFastifyAdapter(api.toolkit);
  // Problems also for what fastify answers before any plugin: parser errors, bad URLs.
  const app = Fastify({ ...kit.serverOptions, logger: false });
  // Before kit.plugin: its onRequest marks upgrades, so a refused one's socket is closed.
  await app.register(fastifyWebsocket, {
    // Answers the `bearer` marker, never the token a browser sent beside it; a larger
    // message closes the connection with 1009.
    options: { handleProtocols: webSocketProtocols(), maxPayload: MAX_MESSAGE_BYTES },
  });
  await app.register(kit.plugin);
  kit.mount(app, api.routes);
  const { path, dependencies } = api.webSocket;
  app.get(
    path,
    kit.webSocket(dependencies, (socket, _request, { principal }) => converse(socket, principal)),
  );
  // The shared runner listens and drains; fastify only has to be ready.
  await app.ready();
  return {
    server: app.server,
    closeWebSockets: () => closeWebSockets(app.websocketServer.clients),
  };
});
