import { createServer } from 'node:http';
import { createNodeAdapter } from '@org/core/node';
import type { AdapterFixture } from './fixture.js';
import { listen } from './listen.js';

export const nodeFixture: AdapterFixture = {
  name: 'node',
  start(toolkit, routes) {
    const app = createNodeAdapter(toolkit);
    for (const route of routes) {
      app.route(route.method, route.path, route.dependencies ?? {}, (ctx, values) =>
        route.handler(ctx, values),
      );
    }
    return listen(createServer(app.handler));
  },
};
