import { type Context, createToolkit, defineDependency, type Reply } from '@org/core';
import { createExpressAdapter } from '@org/core/express';
import express, { type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
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
const kit = createExpressAdapter(createToolkit());
const app = express();

describe('express adapter types', () => {
  it('types the resolved values on req after kit.route', () => {
    app.get(
      '/users/:id',
      kit.route({ user: currentUser, limit }, (req, res) => {
        expectTypeOf(req.user).toEqualTypeOf<User>();
        expectTypeOf(req.limit).toEqualTypeOf<number>();
        expectTypeOf(req).toExtend<Request>();
        // @ts-expect-error: not a dependency of this route
        req.other;
        res.json(req.user);
      }),
    );
  });

  it('accepts async handlers and returns an express handler', () => {
    const handler = kit.route({ user: currentUser }, async (req, res) => {
      res.json(await Promise.resolve(req.user.id));
    });
    expectTypeOf(handler).toEqualTypeOf<RequestHandler>();
    express.Router().get('/me', handler);
  });

  it('exposes the middleware, endpoints, handlers and the core context', () => {
    expectTypeOf(kit.middleware).toEqualTypeOf<RequestHandler>();
    expectTypeOf(kit.notFound).toEqualTypeOf<RequestHandler>();
    expectTypeOf(kit.errorHandler).toEqualTypeOf<ErrorRequestHandler>();
    expectTypeOf(kit.endpoint)
      .parameter(0)
      .toEqualTypeOf<(ctx: Context) => Reply | Promise<Reply>>();
    app.get(
      '/jwks',
      kit.endpoint(() => ({ body: { keys: [] } })),
    );
    app.get('/ctx', (req) => {
      expectTypeOf(kit.context(req)).toEqualTypeOf<Context>();
      expectTypeOf(req.toolkitContext).toEqualTypeOf<Context | undefined>();
    });
  });
});
