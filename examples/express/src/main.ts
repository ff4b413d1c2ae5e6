/**
 * The users API on Express 5. The toolkit's middleware goes first, every route runs
 * through `kit.route`, which resolves its dependencies onto `req` (`req.user`,
 * `req.admin`), and the 404 and error handlers go last.
 */
import { createServer } from 'node:http';
import { clientErrorHandler, type Reply } from '@org/core';
import { createExpressAdapter } from '@org/core/express';
import { startExample } from '@org/example-domain';
import express, { type Request, type Response } from 'express';

/** Sends a framework-neutral reply with express's own response methods. */
function send(res: Response, reply: Reply): void {
  res.status(reply.status ?? 200);
  if (reply.headers !== undefined) res.set(reply.headers);
  const { body } = reply;
  if (body === undefined) res.end();
  else if (typeof body === 'string') res.send(body);
  else if (body instanceof Uint8Array)
    res.send(Buffer.from(body.buffer, body.byteOffset, body.length));
  else res.json(body);
}

await startExample('express', (api) => {
  const kit = createExpressAdapter(api.toolkit);
  const app = express();
  app.disable('x-powered-by');
  app.use(kit.middleware); // first: context, request id, headers, CORS, rate limit
  // No express.json(): the adapter reads bodies itself, with the toolkit's limits.
  for (const route of api.routes) {
    const names = Object.keys(route.dependencies);
    const method = route.method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete';
    app[method](
      route.path,
      kit.route(route.dependencies, async (req: Request, res) => {
        // The resolved values live on req, under their names: req.user, req.admin, req.input...
        const values = Object.fromEntries(names.map((name) => [name, Reflect.get(req, name)]));
        send(res, await route.handler(kit.context(req), values));
      }),
    );
  }
  app.use(kit.notFound, kit.errorHandler); // last: RFC 9457 problems for 404s and errors
  // Requests Node's HTTP parser rejects are answered as problems too.
  return createServer(app).on('clientError', clientErrorHandler);
});
