import Router from '@koa/router';
import { type Context, createToolkit, defineDependency, type Reply } from '@org/core';
import { createKoaAdapter } from '@org/core/koa';
import type { Middleware } from 'koa';
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
const kit = createKoaAdapter(createToolkit());

describe('koa adapter types', () => {
  it('types ctx.state from the route dependencies', () => {
    const router = new Router();
    router.get(
      '/users/:id',
      kit.route({ user: currentUser, limit }, (ctx) => {
        expectTypeOf(ctx.state.user).toEqualTypeOf<User>();
        expectTypeOf(ctx.state.limit).toEqualTypeOf<number>();
        expectTypeOf(ctx.params).toEqualTypeOf<Record<string, string>>();
        // @ts-expect-error: not a dependency of this route
        ctx.state.other;
        ctx.body = ctx.state.user;
      }),
    );
  });

  it('exposes the middleware, endpoints and the core context', () => {
    expectTypeOf(kit.middleware).toExtend<Middleware>();
    expectTypeOf(kit.endpoint)
      .parameter(0)
      .toEqualTypeOf<(ctx: Context) => Reply | Promise<Reply>>();
    new Router().get(
      '/jwks',
      kit.endpoint(() => ({ body: { keys: [] } })),
    );
    new Router().get('/me', (ctx) => {
      expectTypeOf(kit.context(ctx)).toEqualTypeOf<Context>();
    });
  });
});
