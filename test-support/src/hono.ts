import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { createHonoAdapter } from '@org/core/hono';
import { Hono } from 'hono';
import type { AdapterFixture } from './fixture.js';
import { listen } from './listen.js';

/** The hono adapter on `@hono/node-server`, over real HTTP on a loopback port. */
export const honoFixture: AdapterFixture = {
  name: 'hono',
  start(toolkit, routes) {
    const kit = createHonoAdapter(toolkit);
    const app = kit.install(new Hono());
    for (const route of routes) {
      const names = Object.keys(route.dependencies ?? {});
      app.on(
        route.method,
        route.path,
        kit.route(route.dependencies ?? {}),
        // Values are read back from c.get, so exposure is tested too.
        kit.endpoint<{ Variables: Record<string, unknown> }>((ctx, c) =>
          route.handler(ctx, Object.fromEntries(names.map((name) => [name, c.get(name)]))),
        ),
      );
    }
    // Plain HTTP/1.1: createAdaptorServer builds a node:http Server unless told otherwise.
    return listen(createAdaptorServer({ fetch: app.fetch }) as Server);
  },
};
