// Issue 3 benchmark servers: each framework bare, and the same route through the
// toolkit adapter with one dependency. Usage: node core.ts <framework> <bare|adapter> <port>
import { createServer } from 'node:http';
import { createToolkit, defineDependency } from '@org/core';

const [framework = 'node', variant = 'bare', portText = '3000'] = process.argv.slice(2);
const port = Number(portText);
const payload = { id: 'u1', name: 'Ada Lovelace', roles: ['user'] };
const toolkit = createToolkit();
const user = defineDependency({ name: 'user', resolve: () => payload });
const adapter = variant === 'adapter';

async function start(): Promise<void> {
  switch (framework) {
    case 'node': {
      if (!adapter) {
        const body = () => JSON.stringify(payload);
        createServer((req, res) => {
          if (req.url === '/users/me') {
            const text = body();
            res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
            res.end(text);
          } else {
            res.writeHead(404).end();
          }
        }).listen(port, '127.0.0.1', ready);
        return;
      }
      const { createNodeAdapter } = await import('@org/core/node');
      const app = createNodeAdapter(toolkit);
      app.get('/users/me', { user }, (_ctx, values) => ({ body: values.user }));
      createServer(app.handler).listen(port, '127.0.0.1', ready);
      return;
    }
    case 'express': {
      const { default: express } = await import('express');
      const app = express();
      if (!adapter) {
        app.get('/users/me', (_req, res) => {
          res.json(payload);
        });
      } else {
        const { createExpressAdapter } = await import('@org/core/express');
        const kit = createExpressAdapter(toolkit);
        app.use(kit.middleware);
        app.get('/users/me', kit.route({ user }, (req, res) => {
          res.json(req.user);
        }));
        app.use(kit.notFound, kit.errorHandler);
      }
      app.listen(port, '127.0.0.1', ready);
      return;
    }
    case 'fastify': {
      const { default: Fastify } = await import('fastify');
      const app = Fastify();
      if (!adapter) {
        app.get('/users/me', async () => payload);
      } else {
        const { createFastifyAdapter } = await import('@org/core/fastify');
        const kit = createFastifyAdapter(toolkit);
        await app.register(kit.plugin);
        app.get('/users/me', kit.route({ user }, async (request) => request.user));
      }
      await app.listen({ port, host: '127.0.0.1' });
      ready();
      return;
    }
    case 'koa': {
      const { default: Koa } = await import('koa');
      const { default: Router } = await import('@koa/router');
      const app = new Koa();
      const router = new Router();
      if (!adapter) {
        router.get('/users/me', (ctx) => {
          ctx.body = payload;
        });
      } else {
        const { createKoaAdapter } = await import('@org/core/koa');
        const kit = createKoaAdapter(toolkit);
        app.use(kit.middleware);
        router.get('/users/me', kit.route({ user }, (ctx) => {
          ctx.body = ctx.state.user;
        }));
      }
      app.use(router.routes());
      app.listen(port, '127.0.0.1', ready);
      return;
    }
    case 'hono': {
      const { Hono } = await import('hono');
      const { serve } = await import('@hono/node-server');
      const app = new Hono();
      if (!adapter) {
        app.get('/users/me', (c) => c.json(payload));
      } else {
        const { createHonoAdapter } = await import('@org/core/hono');
        const kit = createHonoAdapter(toolkit);
        kit.install(app);
        app.get('/users/me', kit.route({ user }), (c) => c.json(c.get('user')));
      }
      serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, ready);
      return;
    }
    default:
      throw new Error(`unknown framework ${framework}`);
  }
}

function ready(): void {
  process.stdout.write('ready\n');
}

await start();
