/**
 * The users API on Hono, served by @hono/node-server. `kit.install` puts the toolkit
 * in front of `app.fetch` and sets the error and 404 handlers; `kit.mount` registers the
 * shared framework-neutral routes. `GET /api/v1/ws` is hono's `upgradeWebSocket`
 * (`@hono/node-ws`) behind `kit.upgradeWebSocket`, which resolves the principal first.
 */
import { createServer } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { createNodeWebSocket } from '@hono/node-ws';
import { createHonoAdapter } from '@org/core/hono';
import { closeWebSockets, startExample, webSocketConversation } from '@org/example-domain';
import { Hono } from 'hono';

await startExample('hono', (api) => {
  const kit = createHonoAdapter(api.toolkit);
  const app = kit.mount(kit.install(new Hono()), api.routes);
  const { upgradeWebSocket, wss } = createNodeWebSocket({ app });
  const { path, dependencies } = api.webSocket;
  app.get(
    path,
    kit.upgradeWebSocket(upgradeWebSocket, {
      dependencies,
      events(_c, { principal }) {
        const conversation = webSocketConversation(principal);
        return {
          onOpen: (_event, ws) => conversation.open(ws),
          // Text arrives as a string, binary as an ArrayBuffer.
          onMessage: (event, ws) =>
            conversation.message(
              ws,
              event.data as string | ArrayBuffer,
              typeof event.data !== 'string',
            ),
        };
      },
      // What @hono/node-ws catches of its own (not the events': those go to the toolkit).
      upgradeOptions: { onError: (error) => api.logger.warn({ err: error }, 'WebSocket error') },
    }),
  );
  // A plain node:http server, so the shared runner can listen and drain it; what
  // node-server cannot read as a Request (a malformed target) is a problem too.
  const server = createServer(
    getRequestListener(app.fetch, { errorHandler: kit.requestErrorHandler }),
  );
  // In place of injectWebSocket(server), which sends a refusal's status line only.
  server.on('upgrade', kit.upgradeListener({ app, webSocketServer: wss }));
  return { server, closeWebSockets: () => closeWebSockets(wss.clients) };
});
