import { createReadStream } from 'node:fs';
import Router from '@koa/router';
import { defineRoute, type Reply } from '@org/core';
import { createKoaAdapter } from '@org/core/koa';
import Koa, { type ParameterizedContext } from 'koa';
import { FileBody, fileLength, StreamBody } from './bodies.js';
import type { AdapterFixture } from './fixture.js';
import { listen } from './listen.js';
import { chooseTransport, createTransportServer } from './transport.js';

/** Writes a reply the koa way: headers, then `ctx.body` (a stream or file included), then the status. */
async function send(ctx: ParameterizedContext, reply: Reply | undefined): Promise<void> {
  if (reply?.headers) ctx.set(reply.headers);
  const body = reply?.body;
  if (body instanceof FileBody) {
    ctx.type = body.type;
    ctx.length = await fileLength(body);
    ctx.body = createReadStream(body.path);
  } else if (body instanceof StreamBody) {
    ctx.body = body.stream;
  } else {
    ctx.body = body ?? null;
  }
  // After the body: koa's setter turns a null body into 204.
  ctx.status = reply === undefined ? 204 : (reply.status ?? 200);
  // Koa writes the headers after the middleware; ctx.flushHeaders sends them now.
  if (body instanceof StreamBody && body.flushHeaders) ctx.flushHeaders();
}

/** Each route through `kit.mount` on `@koa/router`; a `native` one through `kit.route`, its values read back from `ctx.state`. */
export const koaFixture: AdapterFixture = {
  name: 'koa',
  transports: ['http', 'https', 'http2'],
  start(toolkit, routes, options) {
    const { transport, tls } = chooseTransport('koa', koaFixture.transports, options);
    const kit = createKoaAdapter(toolkit);
    const router = new Router();
    for (const route of routes) {
      if (route.native !== true) {
        kit.mount(router, [defineRoute(route)]);
        continue;
      }
      const dependencies = route.dependencies ?? {};
      const names = Object.keys(dependencies);
      router.register(
        route.path,
        [route.method],
        kit.route(dependencies, async (ctx) => {
          const state = ctx.state as Record<string, unknown>;
          const values = Object.fromEntries(names.map((name) => [name, state[name]]));
          await send(ctx, await route.handler(kit.context(ctx), values));
        }),
      );
    }
    const app = new Koa();
    app.use(kit.middleware);
    app.use(router.routes());
    app.use(router.allowedMethods());
    return listen(createTransportServer(transport, tls, app.callback()), transport);
  },
};
