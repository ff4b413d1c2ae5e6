import {
  ConfigurationError,
  type Context,
  createToolkit,
  defineDependency,
  ForbiddenError,
  type Plugin,
  requestBody,
  UnauthorizedError,
} from '@org/core';
import { getCurrentContext } from '@org/core/adapter';
import { createFastifyAdapter } from '@org/core/fastify';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import * as z from 'zod';

const PROBLEM = 'application/problem+json';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function build(plugins: Plugin[] = []) {
  app = Fastify();
  const kit = createFastifyAdapter(createToolkit({ plugins }));
  await app.register(kit.plugin);
  return { app, kit };
}

describe('fastify adapter', () => {
  describe('routes with fastify’s own schema', () => {
    const schema = {
      body: {
        type: 'object',
        required: ['email'],
        properties: { email: { type: 'string', format: 'email' } },
      },
      querystring: {
        type: 'object',
        properties: { limit: { type: 'integer', maximum: 100 } },
      },
    } as const;

    it('validates the body read with the toolkit’s limits', async () => {
      const { app } = await build();
      app.post('/users', { schema }, (request) => request.body);
      const res = await app.inject({
        method: 'POST',
        url: '/users',
        payload: { email: 'a@b.co' },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ email: 'a@b.co' });
    });

    it('answers a schema failure as a 422 problem with pointers', async () => {
      const { app } = await build();
      app.post('/users', { schema }, (request) => request.body);
      const body = await app.inject({ method: 'POST', url: '/users', payload: { name: 'x' } });
      expect(body.statusCode).toBe(422);
      expect(body.headers['content-type']).toBe(PROBLEM);
      expect(body.json()).toMatchObject({
        status: 422,
        code: 'ERR_VALIDATION',
        errors: [{ pointer: '/email', location: 'body', code: 'required' }],
      });
      const query = await app.inject({
        method: 'POST',
        url: '/users?limit=1000',
        payload: { email: 'a@b.co' },
      });
      expect(query.statusCode).toBe(422);
      expect(query.json().errors).toMatchObject([
        { pointer: '/limit', location: 'query', code: 'maximum' },
      ]);
    });

    it('answers malformed JSON and oversized bodies like every adapter', async () => {
      app = Fastify();
      const kit = createFastifyAdapter(createToolkit({ bodyLimit: 64 }));
      await app.register(kit.plugin);
      app.post('/users', { schema }, (request) => request.body);
      const malformed = await app.inject({
        method: 'POST',
        url: '/users',
        headers: { 'content-type': 'application/json' },
        payload: '{"email": tru',
      });
      expect(malformed.statusCode).toBe(400);
      expect(malformed.headers['content-type']).toBe(PROBLEM);
      expect(malformed.json()).toMatchObject({
        code: 'ERR_MALFORMED_JSON',
        detail: 'The request body is not valid JSON.',
      });
      const large = await app.inject({
        method: 'POST',
        url: '/users',
        payload: { email: `${'x'.repeat(100)}@b.co` },
      });
      expect(large.statusCode).toBe(413);
      expect(large.json().code).toBe('ERR_BODY_TOO_LARGE');
    });
  });

  it('gives dependencies and plugins the full template of a prefixed route, and the bytes', async () => {
    const seen: string[] = [];
    const { app, kit } = await build([
      { name: 'seen', onResponse: (ctx, info) => seen.push(`${ctx.request.route} ${info.bytes}`) },
    ]);
    const route = defineDependency({
      name: 'route',
      resolve: (ctx) => ({ route: ctx.request.route, params: ctx.request.params }),
    });
    await app.register(
      async (v1) => {
        v1.get(
          '/users/:id',
          kit.route({ route }, (request) => request.route),
        );
        v1.get('/plain/:id', () => 'plain');
      },
      { prefix: '/v1' },
    );
    const res = await app.inject('/v1/users/42');
    expect(res.json()).toEqual({ route: '/v1/users/:id', params: { id: '42' } });
    await app.inject('/v1/plain/7');
    // The byte count of the access log comes through fastify's own headers.
    const body = JSON.stringify({ route: '/v1/users/:id', params: { id: '42' } });
    await expect
      .poll(() => seen)
      .toEqual([`/v1/users/:id ${Buffer.byteLength(body)}`, '/v1/plain/:id 5']);
  });

  it('keeps headers from plugins, dependencies and fastify on error responses', async () => {
    const { app, kit } = await build([
      {
        name: 'stamp',
        onRequest: (ctx) => {
          ctx.setHeader('x-request-id', 'req-1');
          ctx.appendHeader('vary', 'Origin');
        },
      },
    ]);
    const guard = defineDependency({
      name: 'guard',
      resolve: (ctx): boolean => {
        ctx.appendHeader('vary', 'Authorization');
        ctx.appendHeader('set-cookie', 'a=1');
        ctx.appendHeader('set-cookie', 'b=2');
        throw new UnauthorizedError({ challenge: 'Bearer error="invalid_token"' });
      },
    });
    app.addHook('preHandler', async (_request, reply) => {
      reply.header('x-fastify', 'yes');
    });
    app.get(
      '/me',
      kit.route({ guard }, () => 'unreachable'),
    );
    const res = await app.inject('/me');
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toBe(PROBLEM);
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(res.headers['x-request-id']).toBe('req-1');
    expect(res.headers['x-fastify']).toBe('yes');
    expect(res.headers.vary).toBe('Origin, Authorization');
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);

    const missing = await app.inject('/nowhere/<script>');
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['x-request-id']).toBe('req-1');
    expect(missing.body).not.toContain('script');
  });

  it('lets a context remove a header fastify code set', async () => {
    const { app, kit } = await build();
    const strip = defineDependency({
      name: 'strip',
      resolve: (ctx) => ctx.removeHeader('x-powered-by'),
    });
    app.addHook('onRequest', async (_request, reply) => {
      reply.header('x-powered-by', 'fastify');
    });
    app.get(
      '/',
      kit.route({ strip }, () => 'ok'),
    );
    const res = await app.inject('/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('removes a header set on the raw response, and Node’s own Date', async () => {
    const { app, kit } = await build();
    const strip = defineDependency({
      name: 'strip',
      resolve: (ctx) => {
        ctx.removeHeader('X-Raw');
        ctx.removeHeader('Date');
      },
    });
    app.addHook('onRequest', async (_request, reply) => {
      reply.raw.setHeader('x-raw', 'set on the ServerResponse');
    });
    app.get(
      '/',
      kit.route({ strip }, () => 'ok'),
    );
    // Over a socket: Node adds Date as it writes, which app.inject would not show.
    const res = await fetch(await app.listen({ port: 0, host: '127.0.0.1' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-raw')).toBeNull();
    expect(res.headers.get('date')).toBeNull();
  });

  it('runs handlers, hooks and body reads inside the request’s context', async () => {
    const { app, kit } = await build([
      { name: 'async', asyncContext: true, onRequest: () => Promise.resolve(undefined) },
    ]);
    const same = (request: { toolkitContext: Context }) =>
      getCurrentContext() === request.toolkitContext;
    const seen: Record<string, boolean> = {};
    app.addHook('preHandler', async (request) => {
      await Promise.resolve();
      seen.preHandler = same(request);
    });
    app.get('/plain', (request) => ({ inside: same(request) }));
    app.post(
      '/body',
      kit.route({ input: requestBody(z.object({ a: z.number() })) }, async (request) => ({
        inside: same(request),
        a: request.input.a,
      })),
    );
    app.post('/schema', { schema: { body: { type: 'object' } } }, (request) => ({
      inside: same(request),
    }));
    // A real socket: body chunks arrive from socket events, outside any request's context.
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const post = (path: string) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"a":1}',
      }).then((res) => res.json());
    expect(await (await fetch(`${url}/plain`)).json()).toEqual({ inside: true });
    expect(seen.preHandler).toBe(true);
    expect(await post('/body')).toEqual({ inside: true, a: 1 });
    expect(await post('/schema')).toEqual({ inside: true });
  });

  it('mounts neutral endpoints and answers early from a plugin', async () => {
    const { app, kit } = await build([
      {
        name: 'preflight',
        onRequest: (ctx) =>
          ctx.request.method === 'OPTIONS'
            ? { status: 204, headers: { 'access-control-allow-origin': '*' } }
            : undefined,
      },
    ]);
    app.get(
      '/jwks',
      kit.endpoint(() => ({ body: { keys: [] }, headers: { 'cache-control': 'max-age=60' } })),
    );
    app.get(
      '/async',
      kit.endpoint(async (ctx) => ({ status: 201, body: ctx.request.route })),
    );
    app.get(
      '/denied',
      kit.endpoint(() => {
        throw new ForbiddenError();
      }),
    );
    const jwks = await app.inject('/jwks');
    expect(jwks.statusCode).toBe(200);
    expect(jwks.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(jwks.headers['cache-control']).toBe('max-age=60');
    expect(jwks.json()).toEqual({ keys: [] });
    const created = await app.inject('/async');
    expect(created.statusCode).toBe(201);
    expect(created.body).toBe('/async');
    expect((await app.inject('/denied')).statusCode).toBe(403);
    const early = await app.inject({ method: 'OPTIONS', url: '/jwks' });
    expect(early.statusCode).toBe(204);
    expect(early.headers['access-control-allow-origin']).toBe('*');
  });

  it('answers fastify’s routing errors as problems through kit.serverOptions', async () => {
    const kit = createFastifyAdapter(createToolkit());
    app = Fastify({ ...kit.serverOptions });
    await app.register(kit.plugin);
    app.get(
      '/users/:id',
      kit.endpoint((ctx) => ({ body: ctx.request.params })),
    );
    const longId = 'x'.repeat(200); // over fastify's default maxParamLength of 100
    const tooLong = await app.inject(`/users/${longId}`);
    expect(tooLong.statusCode).toBe(414);
    expect(tooLong.headers['content-type']).toBe('application/problem+json');
    expect(tooLong.json()).toMatchObject({ status: 414, title: 'URI Too Long' });
    expect(tooLong.body).not.toContain(longId);
    const badUrl = await app.inject('/users/%E0%A4%A');
    expect(badUrl.statusCode).toBe(400);
    expect(badUrl.json()).toMatchObject({ status: 400, code: 'ERR_BAD_PATH' });
    expect(badUrl.body).not.toContain('%E0');
  });

  it('refuses dependency names that would overwrite fastify’s request', () => {
    const kit = createFastifyAdapter(createToolkit());
    const body = defineDependency({ name: 'body', resolve: () => 1 });
    expect(() => kit.route({ body }, () => 'x')).toThrow(ConfigurationError);
    expect(() => kit.route({ body }, () => 'x')).toThrow(/"body"/);
  });

  it('names the fix when the plugin is not registered', async () => {
    app = Fastify();
    const kit = createFastifyAdapter(createToolkit());
    let thrown: unknown;
    app.get('/', (request) => {
      try {
        kit.context(request);
      } catch (error) {
        thrown = error;
      }
      return 'ok';
    });
    await app.inject('/');
    expect(thrown).toBeInstanceOf(ConfigurationError);
    expect((thrown as Error).message).toContain('app.register(kit.plugin)');
  });
});
