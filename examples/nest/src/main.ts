/**
 * The users API on NestJS. `OrgToolkitModule.forRoot` installs the toolkit for every
 * request (plugins first, dependencies in a guard, problems from one exception filter)
 * and serves the shared neutral routes from one controller. `GET /api/v1/ws` is a
 * gateway on `OrgWsAdapter`: the toolkit authenticates and rate limits the upgrade before
 * the `101`, and the gateway reads the principal it resolved. Decorators are applied as
 * plain calls: Node runs this file by stripping its types, and TypeScript decorators
 * need a compiler.
 */
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { WebSocketGateway } from '@nestjs/websockets';
import {
  type OrgGatewayOptions,
  OrgToolkitModule,
  OrgWsAdapter,
  webSocketValue,
} from '@org/core/nest';
import { converse, MAX_MESSAGE_BYTES, startExample } from '@org/example-domain';

await startExample('nest', async (api) => {
  const { path, dependencies } = api.webSocket;

  /** `GET /api/v1/ws`: reached only once the upgrade's principal resolved. */
  class EchoGateway {
    handleConnection(client: Parameters<typeof converse>[0]) {
      converse(client, webSocketValue(client, dependencies.principal));
    }
  }
  // A larger message closes the connection with 1009.
  WebSocketGateway<OrgGatewayOptions>({ path, maxPayload: MAX_MESSAGE_BYTES })(EchoGateway);

  class AppModule {}
  Module({
    imports: [OrgToolkitModule.forRoot({ toolkit: api.toolkit, routes: api.routes })],
    providers: [EchoGateway],
  })(AppModule);
  // No body parser: the toolkit reads bodies itself, with its limits and problems.
  const app = await NestFactory.create<NestExpressApplication>(AppModule, new ExpressAdapter(), {
    bodyParser: false,
    logger: ['error', 'warn'],
  });
  app.disable('x-powered-by');
  const webSockets = new OrgWsAdapter(app, { toolkit: api.toolkit, dependencies });
  app.useWebSocketAdapter(webSockets);
  await app.init();
  // startExample listens, and says goodbye (1001) to every WebSocket on drain.
  return { server: app.getHttpServer(), closeWebSockets: () => webSockets.closeConnections() };
});
