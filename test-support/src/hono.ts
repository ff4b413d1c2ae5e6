import { createReadStream } from 'node:fs';
import { createSecureServer } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import { Readable } from 'node:stream';
import { createAdaptorServer, type ServerType } from '@hono/node-server';
import { defineRoute, type Reply } from '@org/core';
import { createHonoAdapter } from '@org/core/hono';
import { type Context as FrameworkContext, Hono } from 'hono';
import { FileBody, fileLength, StreamBody } from './bodies.js';
import type { AdapterFixture } from './fixture.js';
import { listen } from './listen.js';
import { chooseTransport, type NodeServer } from './transport.js';

type Env = { Variables: Record<string, unknown> };

/** A Node stream as the web stream a Response body takes. */
function toWeb(stream: Readable): ReadableStream<Uint8Array> {
  return Readable.toWeb(stream) as ReadableStream<Uint8Array>;
}

/** Sends a stream or a file the hono way, `c.body(webStream)`; undefined for any other reply. */
async function sendStreamed(
  c: FrameworkContext<Env>,
  reply: Reply | undefined,
): Promise<Response | undefined> {
  const body = reply?.body;
  if (reply === undefined || !(body instanceof StreamBody || body instanceof FileBody)) {
    return undefined;
  }
  const status = (reply.status ?? 200) as 200;
  if (body instanceof StreamBody) return c.body(toWeb(body.stream), status, reply.headers);
  const headers = {
    'content-type': body.type,
    'content-length': String(await fileLength(body)),
    ...reply.headers,
  };
  return c.body(toWeb(createReadStream(body.path)), status, headers);
}

/** `@hono/node-server`'s server for the transport. */
function createServer(
  fetch: (request: Request, env: unknown) => Response | Promise<Response>,
  options: ReturnType<typeof chooseTransport>,
): ServerType {
  const { transport, tls } = options;
  if (transport === 'https') {
    return createAdaptorServer({
      fetch,
      createServer: createHttpsServer,
      serverOptions: { ...tls },
    });
  }
  if (transport === 'http2') {
    return createAdaptorServer({
      fetch,
      createServer: createSecureServer,
      serverOptions: { ...tls, allowHTTP1: true },
    });
  }
  // Plain HTTP/1.1: createAdaptorServer builds a node:http Server unless told otherwise.
  return createAdaptorServer({ fetch });
}

/**
 * The hono adapter on `@hono/node-server`, over real HTTP on a loopback port: each route
 * through `kit.mount`; a `native` one through `kit.route`, its values read from `c.get`.
 */
export const honoFixture: AdapterFixture = {
  name: 'hono',
  transports: ['http', 'https', 'http2'],
  start(toolkit, routes, options) {
    const chosen = chooseTransport('hono', honoFixture.transports, options);
    const kit = createHonoAdapter(toolkit);
    const app = kit.install(new Hono<Env>());
    for (const route of routes) {
      if (route.native !== true) {
        kit.mount(app, [defineRoute(route)]);
        continue;
      }
      const names = Object.keys(route.dependencies ?? {});
      app.on(route.method, route.path, kit.route(route.dependencies ?? {}), async (c, next) => {
        // Values are read back from c.get, so exposure is tested too.
        const values = Object.fromEntries(names.map((name) => [name, c.get(name)]));
        const reply = await route.handler(kit.context(c), values);
        const streamed = await sendStreamed(c, reply);
        if (streamed !== undefined) return streamed;
        // A neutral reply goes out through the adapter's own endpoint.
        return kit.endpoint<Env>(() => reply)(c, next);
      });
    }
    return listen(createServer(app.fetch, chosen) as NodeServer, chosen.transport);
  },
};
