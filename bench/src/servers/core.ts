// Issue 3 benchmark servers: each framework bare, bare with one pass-through hook, and
// the same neutral route mounted through the toolkit adapter with one dependency
// (adapter-tracked: a plugin declares asyncContext, what getCurrentContext() costs).
// Usage: node core.ts <framework> <bare|hook|adapter|adapter-tracked> <port>
// (or `node work:<µs>`: bare node:http plus that much CPU work per request, the calibration).
// The bare servers are the HTTP suite's (servers/http/bare.ts), so both suites
// measure against the same baseline, and they load nothing of the toolkit.
import { createServer } from 'node:http';
import { ADAPTER_VARIANTS } from './core-stacks.ts';

const [framework = 'node', variant = 'bare', portText = '3000'] = process.argv.slice(2);
const port = Number(portText);
// Exit normally on the runner's SIGTERM, so --cpu-prof profiles get written.
process.on('SIGTERM', () => process.exit(0));
const payload = { id: 'u1', name: 'Ada Lovelace', roles: ['user'] };

async function adapter(): Promise<void> {
  const { createToolkit, defineDependency, defineRoute } = await import('@org/core');
  // A plugin with nothing but `asyncContext: true`, as observability's requestId() declares.
  const tracks = { name: 'tracks', asyncContext: true };
  const toolkit = createToolkit({ plugins: variant === 'adapter-tracked' ? [tracks] : [] });
  const user = defineDependency({ name: 'user', resolve: () => payload });
  // One neutral route, mounted on each framework with its adapter's `mount`.
  const routes = [
    defineRoute({
      method: 'GET',
      path: '/users/me',
      dependencies: { user },
      handler: (_ctx, values) => ({ body: values.user }),
    }),
  ];
  switch (framework) {
    case 'node': {
      const { createNodeAdapter } = await import('@org/core/node');
      const app = createNodeAdapter(toolkit).mount(routes);
      createServer(app.handler).listen(port, '127.0.0.1', ready);
      return;
    }
    case 'express': {
      const { default: express } = await import('express');
      const { createExpressAdapter } = await import('@org/core/express');
      const app = express();
      const kit = createExpressAdapter(toolkit);
      app.use(kit.middleware);
      kit.mount(app, routes);
      app.use(kit.notFound, kit.errorHandler);
      app.listen(port, '127.0.0.1', ready);
      return;
    }
    case 'fastify': {
      const { default: Fastify } = await import('fastify');
      const { createFastifyAdapter } = await import('@org/core/fastify');
      const app = Fastify();
      const kit = createFastifyAdapter(toolkit);
      await app.register(kit.plugin);
      kit.mount(app, routes);
      await app.listen({ port, host: '127.0.0.1' });
      ready();
      return;
    }
    case 'koa': {
      const { default: Koa } = await import('koa');
      const { default: Router } = await import('@koa/router');
      const { createKoaAdapter } = await import('@org/core/koa');
      const app = new Koa();
      const router = new Router();
      const kit = createKoaAdapter(toolkit);
      app.use(kit.middleware);
      kit.mount(router, routes);
      app.use(router.routes());
      app.listen(port, '127.0.0.1', ready);
      return;
    }
    case 'hono': {
      const { Hono } = await import('hono');
      const { serve } = await import('@hono/node-server');
      const { createHonoAdapter } = await import('@org/core/hono');
      const app = new Hono();
      const kit = createHonoAdapter(toolkit);
      kit.mount(kit.install(app), routes);
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

/**
 * Calibration: bare node:http plus `micros` of pure CPU work per request (a busy loop on
 * the clock), to read what a given cost per request does to req/s on this machine.
 */
function work(micros: number): void {
  const text = JSON.stringify(payload);
  const headers = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  };
  createServer((req, res) => {
    const until = performance.now() + micros / 1000;
    while (performance.now() < until);
    if (req.url === '/users/me') res.writeHead(200, headers).end(text);
    else res.writeHead(404).end();
  }).listen(port, '127.0.0.1', ready);
}

if (variant.startsWith('work:')) {
  if (framework !== 'node') throw new Error('work:<µs> runs on node only');
  work(Number(variant.slice('work:'.length)));
} else if (variant === 'bare' || variant === 'hook') {
  if (!['express', 'fastify', 'koa', 'hono', 'node'].includes(framework)) {
    throw new Error(`unknown framework ${framework}`);
  }
  const { bare } = await import('./http/bare.ts');
  await bare[framework]?.(port, { hook: variant === 'hook' });
} else if (ADAPTER_VARIANTS.includes(variant)) {
  await adapter();
} else {
  throw new Error(`unknown variant ${variant}`);
}
