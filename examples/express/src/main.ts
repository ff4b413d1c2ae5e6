/**
 * The users API on Express 5. The toolkit's middleware goes first, `kit.mount` registers
 * the shared framework-neutral routes, and the 404 and error handlers go last.
 */
import { createServer } from 'node:http';
import { createExpressAdapter } from '@org/core/express';
import { startExample } from '@org/example-domain';
import express from 'express';

await startExample('express', (api) => {
  const kit = createExpressAdapter(api.toolkit);
  const app = express();
  app.disable('x-powered-by');
  app.use(kit.middleware); // first: context, request id, headers, CORS, rate limit
  // No express.json(): the adapter reads bodies itself, with the toolkit's limits.
  kit.mount(app, api.routes);
  app.use(kit.notFound, kit.errorHandler); // last: RFC 9457 problems for 404s and errors
  return createServer(app);
});
