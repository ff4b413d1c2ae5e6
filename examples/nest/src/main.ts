/**
 * The users API on NestJS. `OrgToolkitModule.forRoot` installs the toolkit for every
 * request (plugins first, dependencies in a guard, problems from one exception filter)
 * and serves the shared neutral routes from one controller. Decorators are applied as
 * plain calls: Node runs this file by stripping its types, and TypeScript decorators
 * need a compiler.
 */
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { OrgToolkitModule } from '@org/core/nest';
import { startExample } from '@org/example-domain';

await startExample('nest', async (api) => {
  class AppModule {}
  Module({ imports: [OrgToolkitModule.forRoot({ toolkit: api.toolkit, routes: api.routes })] })(
    AppModule,
  );
  // No body parser: the toolkit reads bodies itself, with its limits and problems.
  const app = await NestFactory.create<NestExpressApplication>(AppModule, new ExpressAdapter(), {
    bodyParser: false,
    logger: ['error', 'warn'],
  });
  app.disable('x-powered-by');
  await app.init();
  return app.getHttpServer(); // startExample listens
});
