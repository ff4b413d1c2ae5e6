import { type Context, createToolkit, defineDependency, type Reply } from '@org/core';
import { createFastifyAdapter, type FastifyAdapter } from '@org/core/fastify';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { describe, expectTypeOf, it } from 'vitest';

interface User {
  id: string;
  roles: readonly string[];
}

const currentUser = defineDependency({
  name: 'currentUser',
  resolve: async (): Promise<User> => ({ id: '1', roles: [] }),
});
const requestStart = defineDependency({ name: 'requestStart', resolve: () => 0 });

const app = Fastify();
const kit = createFastifyAdapter(createToolkit());

describe('createFastifyAdapter', () => {
  it('types the resolved values on request', () => {
    app.get(
      '/me',
      kit.route({ user: currentUser, started: requestStart }, async (request, reply) => {
        expectTypeOf(request.user).toEqualTypeOf<User>();
        expectTypeOf(request.started).toEqualTypeOf<number>();
        expectTypeOf(request).toMatchTypeOf<FastifyRequest>();
        expectTypeOf(reply).toMatchTypeOf<FastifyReply>();
        // @ts-expect-error: only declared dependencies are on the request
        void request.admin;
        return request.user;
      }),
    );
  });

  it('keeps fastify’s route generics', () => {
    // With options: @fastify/websocket's declarations (loaded by the fastify example in
    // this program) put an overload for `(path, options)` first, and TypeScript infers
    // `kit.route`'s generics against it; see the README's limitations.
    app.get<{ Params: { id: string }; Querystring: { limit?: number } }>(
      '/users/:id',
      {},
      kit.route({ user: currentUser }, (request) => {
        expectTypeOf(request.params.id).toEqualTypeOf<string>();
        expectTypeOf(request.query.limit).toEqualTypeOf<number | undefined>();
        expectTypeOf(request.user.roles).toEqualTypeOf<readonly string[]>();
        return null;
      }),
    );
  });

  it('declares the context on every fastify request', () => {
    app.get('/ctx', (request) => {
      expectTypeOf(request.toolkitContext).toEqualTypeOf<Context>();
      expectTypeOf(kit.context(request)).toEqualTypeOf<Context>();
      return null;
    });
  });

  it('mounts neutral endpoints that return a Reply', () => {
    expectTypeOf<FastifyAdapter['endpoint']>()
      .parameter(0)
      .toEqualTypeOf<(ctx: Context) => Reply | Promise<Reply>>();
    app.get(
      '/jwks',
      kit.endpoint(() => ({ body: { keys: [] } })),
    );
    // @ts-expect-error: an endpoint must return a Reply
    kit.endpoint(() => 'text');
  });

  it('passes the resolved values to a kit.webSocket handler', () => {
    app.get(
      '/ws',
      kit.webSocket({ user: currentUser }, (socket, request, values) => {
        expectTypeOf(values.user).toEqualTypeOf<User>();
        expectTypeOf(request).toMatchTypeOf<FastifyRequest>();
        socket.close(1000);
      }),
    );
  });
});
