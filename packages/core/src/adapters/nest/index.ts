/**
 * The NestJS adapter, on both of Nest's platforms (`@nestjs/platform-express` and
 * `@nestjs/platform-fastify`): `OrgToolkitModule.forRoot({ toolkit })` runs the toolkit's
 * plugins first for every request and writes every error as an RFC 9457 problem;
 * `@UseDependencies` resolves dependencies in a guard, before the handler; `@Dep` and
 * `@Ctx` hand the resolved values and the context to the handler. For gateways
 * (`@nestjs/websockets` on `@nestjs/platform-ws`), `OrgWsAdapter` runs the plugins and
 * dependencies before the `101`, and `webSocketValue` reads them per connection.
 *
 * @example
 * ```ts
 * import { Controller, Get, Module } from '@nestjs/common';
 * import { NestFactory } from '@nestjs/core';
 * import { Ctx, Dep, OrgToolkitModule, UseDependencies } from '@org/core/nest';
 *
 * @Controller('users')
 * class UsersController {
 *   @Get('me')
 *   @UseDependencies({ user: auth.currentUser }) // 401 before the handler runs
 *   me(@Dep(auth.currentUser) user: User) {
 *     return user; // resolved once per request: the guard's value
 *   }
 * }
 *
 * @Module({ imports: [OrgToolkitModule.forRoot({ toolkit })], controllers: [UsersController] })
 * class AppModule {}
 *
 * const app = await NestFactory.create(AppModule, { bodyParser: false });
 * await app.listen(3000);
 * ```
 *
 * @module \@org/core/nest
 */
import {
  Controller,
  type DynamicModule,
  Inject,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  Req,
  RequestMapping,
  RequestMethod,
  Res,
  type Type,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, HttpAdapterHost } from '@nestjs/core';
import { prepareRoutes, runRoute } from '../../adapter/index.js';
import type { DependencyMap, Route, Toolkit } from '../../index.js';
import {
  DEPENDENCIES,
  DependencyGuard,
  enterRequest,
  ProblemFilter,
  toolkitMiddleware,
} from './request.js';

export { Ctx, Dep } from './parameters.js';
export {
  type OrgGatewayOptions,
  OrgWsAdapter,
  type OrgWsAdapterOptions,
  webSocketValue,
} from './websocket.js';

/**
 * Options of {@link OrgToolkitModule.forRoot}.
 *
 * @example
 * ```ts
 * const me = defineRoute({
 *   method: 'GET',
 *   path: '/users/me',
 *   dependencies: { user: auth.currentUser },
 *   handler: (_ctx, { user }) => ({ body: user }),
 * });
 * OrgToolkitModule.forRoot({ toolkit, routes: [me] });
 * ```
 */
export interface OrgToolkitModuleOptions {
  /** The toolkit every request runs under. */
  readonly toolkit: Toolkit;
  /**
   * Framework-neutral routes (`defineRoute`), served by one controller this module
   * declares and recorded in `toolkit.routes` for the OpenAPI document. @default []
   */
  readonly routes?: readonly Route[];
}

const TOOLKIT = Symbol('@org/core/nest toolkit');

/** The fastify instance's content-type parsers, as far as this module changes them. */
interface FastifyParsers {
  removeAllContentTypeParsers(): void;
  addContentTypeParser(
    type: string,
    parser: (request: unknown, payload: unknown, done: (error: null) => void) => void,
  ): void;
}

/**
 * Declares the dependencies of a handler, or of every handler of a controller, resolved
 * once per request by the module's guard before the handler runs: a guard such as
 * `requireRoles('admin')` answers 401 or 403 first. Read the values with {@link Dep}.
 *
 * @example
 * ```ts
 * @Delete(':id')
 * @UseDependencies({ admin: auth.requireRoles('admin'), params: requestParams(IdParams) })
 * remove(@Dep(requestParams(IdParams)) { id }: { id: string }) {}
 * ```
 */
export function UseDependencies(dependencies: DependencyMap): ClassDecorator & MethodDecorator {
  return DEPENDENCIES(dependencies);
}

/**
 * The toolkit in a Nest app. `forRoot` installs, for every HTTP request: a middleware
 * that builds the toolkit context and runs the plugins (request id, security headers,
 * CORS, rate limits), a global guard that resolves the dependencies declared with
 * {@link UseDependencies}, and a global exception filter that writes every error as an
 * RFC 9457 problem: the toolkit's, Nest's `HttpException`s by status (their message is
 * not shown), and unknown routes as 404 without echoing the path. On fastify it reads
 * bodies with the toolkit's limits, replacing fastify's content-type parsers; on
 * express, create the app with `{ bodyParser: false }` for the same.
 *
 * @example
 * ```ts
 * @Module({ imports: [OrgToolkitModule.forRoot({ toolkit })], controllers: [UsersController] })
 * class AppModule {}
 * const app = await NestFactory.create(AppModule, new FastifyAdapter());
 * ```
 */
export class OrgToolkitModule implements NestModule {
  readonly #toolkit: Toolkit;
  readonly #adapterHost: HttpAdapterHost;

  /** Nest creates the module, with the toolkit `forRoot` provides. */
  constructor(toolkit: Toolkit, adapterHost: HttpAdapterHost) {
    this.#toolkit = toolkit;
    this.#adapterHost = adapterHost;
  }

  /**
   * The module for the root of the app: import it once.
   *
   * @example
   * ```ts
   * @Module({ imports: [OrgToolkitModule.forRoot({ toolkit })], controllers: [UsersController] })
   * class AppModule {}
   * ```
   */
  static forRoot(options: OrgToolkitModuleOptions): DynamicModule {
    const { toolkit, routes = [] } = options;
    return {
      module: OrgToolkitModule,
      global: true,
      providers: [
        { provide: TOOLKIT, useValue: toolkit },
        { provide: APP_GUARD, useValue: new DependencyGuard() },
        { provide: APP_FILTER, useValue: new ProblemFilter(toolkit) },
      ],
      controllers: routes.length === 0 ? [] : [routesController(toolkit, routes)],
    };
  }

  /** Called by Nest: the middleware for every route, and fastify's parsers. */
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(toolkitMiddleware(this.#toolkit))
      .forRoutes({ path: '*', method: RequestMethod.ALL });
    const adapter = this.#adapterHost.httpAdapter;
    if (adapter.getType() === 'fastify') {
      // The body stays unread until a dependency asks for it, then is read with the
      // toolkit's limits and errors, as on every other adapter.
      const fastify = adapter.getInstance<FastifyParsers>();
      fastify.removeAllContentTypeParsers();
      fastify.addContentTypeParser('*', (_request, _payload, done) => done(null));
    }
  }
}
Inject(TOOLKIT)(OrgToolkitModule, undefined, 0);
Inject(HttpAdapterHost)(OrgToolkitModule, undefined, 1);
Module({})(OrgToolkitModule);

/** A controller serving `routes`: each handler writes its reply itself (`@Res()`). */
function routesController(toolkit: Toolkit, routes: readonly Route[]): Type {
  class ToolkitRoutesController {}
  const target: object = ToolkitRoutesController.prototype;
  prepareRoutes(toolkit, routes).forEach(({ method, path, lifecycle }, index) => {
    const key = `${method} ${path}#${index}`;
    const handle = (request: unknown) => runRoute(enterRequest(request), lifecycle, undefined);
    const descriptor = { value: handle, writable: true, configurable: true };
    Object.defineProperty(target, key, descriptor);
    RequestMapping({ path, method: RequestMethod[method] })(target, key, descriptor);
    Req()(target, key, 0);
    Res()(target, key, 1);
  });
  Controller()(ToolkitRoutesController);
  return ToolkitRoutesController;
}
