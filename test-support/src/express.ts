import { createServer } from 'node:http';
import type { Reply } from '@org/core';
import { createExpressAdapter } from '@org/core/express';
import express, { type Response } from 'express';
import type { AdapterFixture } from './fixture.js';
import { listen } from './listen.js';

/** Writes a reply the express way (`res.status().set().json()`), so express's own response path is tested. */
function send(res: Response, reply: Reply | undefined): void {
  if (reply === undefined) {
    res.status(204).end();
    return;
  }
  res.status(reply.status ?? 200);
  if (reply.headers) res.set(reply.headers);
  const { body } = reply;
  if (body === undefined) res.end();
  else if (typeof body === 'string') {
    if (!res.get('content-type')) res.type('text');
    res.send(body);
  } else if (body instanceof Uint8Array)
    res.send(Buffer.from(body.buffer, body.byteOffset, body.length));
  else res.json(body);
}

/**
 * An idiomatic express app: `kit.middleware` first, express's own body parsers with the
 * toolkit's limit (so their errors must map onto the same problems) except under
 * `/own-body/`, each route through `kit.route` with its values read back from `req`,
 * then the 404 and error handlers.
 */
export const expressFixture: AdapterFixture = {
  name: 'express',
  start(toolkit, routes) {
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
      const dependencies = route.dependencies ?? {};
      const names = Object.keys(dependencies);
      const method = route.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
      app[method](
        route.path,
        kit.route(dependencies, async (req, res) => {
          const values = Object.fromEntries(names.map((name) => [name, req[name]]));
          send(res, await route.handler(kit.context(req), values));
        }),
      );
    }
    app.use(kit.notFound, kit.errorHandler);
    return listen(createServer(app));
  },
};
