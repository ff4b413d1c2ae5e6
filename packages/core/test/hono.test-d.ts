import { type Context, createToolkit, defineDependency, type Reply } from '@org/core';
import { createHonoAdapter } from '@org/core/hono';
import { type ErrorHandler, Hono, type NotFoundHandler } from 'hono';
import type { UpgradeWebSocket } from 'hono/ws';
import { describe, expectTypeOf, it } from 'vitest';

interface User {
  id: string;
  roles: readonly string[];
}

const currentUser = defineDependency({
  name: 'currentUser',
  resolve: async (): Promise<User> => ({ id: '1', roles: [] }),
});
const limit = defineDependency({ name: 'limit', resolve: () => 10 });
const kit = createHonoAdapter(createToolkit());

describe('hono adapter types', () => {
  it("types c.get('user') from the route dependencies", () => {
    const app = kit.install(new Hono());
    app.get('/users/:id', kit.route({ user: currentUser, limit }), (c) => {
      expectTypeOf(c.get('user')).toEqualTypeOf<User>();
      expectTypeOf(c.get('limit')).toEqualTypeOf<number>();
      expectTypeOf(c.var.user).toEqualTypeOf<User>();
      expectTypeOf(c.req.param('id')).toEqualTypeOf<string>();
      // @ts-expect-error: not a dependency of this route
      c.get('other');
      return c.json(c.get('user'));
    });
  });

  it('types c.get in the handler given to kit.route', () => {
    const app = kit.install(new Hono());
    app.get(
      '/users/:id',
      kit.route({ user: currentUser, limit }, (c) => {
        expectTypeOf(c.get('user')).toEqualTypeOf<User>();
        expectTypeOf(c.get('limit')).toEqualTypeOf<number>();
        // @ts-expect-error: not a dependency of this route
        c.get('other');
        return c.json(c.get('user'));
      }),
    );
  });

  it('keeps the app type through install, and exposes the handlers and the core context', () => {
    const app = new Hono<{ Variables: { tenant: string } }>();
    expectTypeOf(kit.install(app)).toEqualTypeOf(app);
    expectTypeOf(kit.errorHandler).toExtend<ErrorHandler>();
    expectTypeOf(kit.notFound).toExtend<NotFoundHandler>();
    expectTypeOf(kit.endpoint).parameter(0).parameter(0).toEqualTypeOf<Context>();
    expectTypeOf(kit.endpoint)
      .parameter(0)
      .returns.toEqualTypeOf<Reply | undefined | Promise<Reply | undefined>>();
    app.get(
      '/jwks',
      kit.endpoint(() => ({ body: { keys: [] } })),
    );
    app.get('/me', (c) => {
      expectTypeOf(kit.context(c)).toEqualTypeOf<Context>();
      return c.body(null, 204);
    });
  });

  it('types the values and the WebSocket of kit.upgradeWebSocket', () => {
    interface Raw {
      ping(): void;
    }
    const upgradeWebSocket = (() => {}) as unknown as UpgradeWebSocket<Raw, { onError(): void }>;
    const app = kit.install(new Hono());
    app.get(
      '/ws',
      kit.upgradeWebSocket(upgradeWebSocket, {
        dependencies: { user: currentUser },
        events(c, { user }) {
          expectTypeOf(user).toEqualTypeOf<User>();
          expectTypeOf(c.get('user')).toEqualTypeOf<User>();
          return { onOpen: (_event, ws) => expectTypeOf(ws.raw).toEqualTypeOf<Raw | undefined>() };
        },
        upgradeOptions: { onError() {} },
      }),
    );
  });
});
