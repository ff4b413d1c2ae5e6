import type { IncomingMessage, ServerResponse } from 'node:http';
import { defineRoute, type Reply } from '@org/core';
import { createExpressAdapter } from '@org/core/express';
import express, { type NextFunction, type Response } from 'express';
import { FileBody, pipeInto, StreamBody } from './bodies.js';
import type { AdapterFixture } from './fixture.js';
import { listen } from './listen.js';
import { chooseTransport, createTransportServer } from './transport.js';

/** Writes a reply the express way (`res.status().set().json()`), so express's own response path is tested. */
function send(res: Response, reply: Reply | undefined, next: NextFunction): void {
  if (reply === undefined) {
    res.status(204).end();
    return;
  }
  res.status(reply.status ?? 200);
  if (reply.headers) res.set(reply.headers);
  const { body } = reply;
  if (body === undefined) res.end();
  else if (body instanceof StreamBody) void pipeInto(res, body);
  else if (body instanceof FileBody) {
    // A client that left is no error to report (express passes ECONNABORTED).
    res.sendFile(body.path, (error) => {
      if (error && !res.headersSent) next(error);
    });
  } else if (typeof body === 'string') {
    if (!res.get('content-type')) res.type('text');
    res.send(body);
  } else if (body instanceof Uint8Array)
    res.send(Buffer.from(body.buffer, body.byteOffset, body.length));
  else res.json(body);
}

/**
 * An idiomatic express app: `kit.middleware` first, express's own body parsers with the
 * toolkit's limit (so their errors must map onto the same problems) except under
 * `/own-body/`, each route through `kit.mount` (a `native` one through `kit.route`, its
 * values read back from `req`), then the 404 and error handlers.
 */
export const expressFixture: AdapterFixture = {
  name: 'express',
  // Express 5 cannot serve HTTP/2's compatibility objects: it swaps the request's
  // prototype for one built on http.IncomingMessage, whose _read then throws on the
  // first body read ("Cannot read properties of undefined (reading 'readable')").
  transports: ['http', 'https'],
  start(toolkit, routes, options) {
    const { transport, tls } = chooseTransport('express', expressFixture.transports, options);
    const kit = createExpressAdapter(toolkit);
    const app = express();
    app.use(kit.middleware);
    // Paths under /own-body/ are left to the adapter's own body reading (as the examples
    // do), for the rules express's parsers do not have (the body timeout).
    const parsers = express.Router();
    parsers.use(express.json({ limit: toolkit.bodyLimit }));
    parsers.use(express.urlencoded({ limit: toolkit.bodyLimit }));
    app.use(/^(?!\/own-body\/)/, parsers);
    for (const route of routes) {
      if (route.native !== true) {
        kit.mount(app, [defineRoute(route)]);
        continue;
      }
      const dependencies = route.dependencies ?? {};
      const names = Object.keys(dependencies);
      const method = route.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
      app[method](
        route.path,
        kit.route(dependencies, async (req, res, next) => {
          const values = Object.fromEntries(names.map((name) => [name, req[name]]));
          send(res, await route.handler(kit.context(req), values), next);
        }),
      );
    }
    app.use(kit.notFound, kit.errorHandler);
    const server = createTransportServer(transport, tls, (req, res) =>
      app(req as IncomingMessage, res as ServerResponse),
    );
    return listen(server, transport);
  },
};
