// The bare servers: each framework alone, returning a small JSON object on
// GET /users/me. They import nothing but the framework, so their RSS is the baseline.
import { writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';

const PAYLOAD = { id: 'u1', name: 'Ada Lovelace', roles: ['user'] };

function ready(): void {
  process.stdout.write('ready\n');
}

/** Options of a bare server. */
export interface BareOptions {
  /**
   * One pass-through hook before the route, installed the framework's way (`app.use`,
   * fastify's `onRequest`): the least any feature that runs for every request costs
   * before it does anything. node:http has no hook API and ignores it.
   * @default false
   */
  readonly hook?: boolean;
}

/** The bare response: the payload as JSON, its length declared, in one writeHead. */
function sendPayload(res: ServerResponse): void {
  const text = JSON.stringify(PAYLOAD);
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export const bare: Readonly<
  Record<string, (port: number, options?: BareOptions) => Promise<void>>
> = {
  async node(port) {
    createServer((req, res) => {
      if (req.url === '/users/me') sendPayload(res);
      else res.writeHead(404).end();
    }).listen(port, '127.0.0.1', ready);
  },

  async express(port, { hook = false } = {}) {
    const { default: express } = await import('express');
    const app = express();
    if (hook) app.use((_req, _res, next) => next());
    app.get('/users/me', (_req, res) => {
      res.json(PAYLOAD);
    });
    app.listen(port, '127.0.0.1', ready);
  },

  async fastify(port, { hook = false } = {}) {
    const { default: Fastify } = await import('fastify');
    const app = Fastify();
    if (hook) app.addHook('onRequest', (_request, _reply, done) => done());
    app.get('/users/me', async () => PAYLOAD);
    await app.listen({ port, host: '127.0.0.1' });
    ready();
  },

  async koa(port, { hook = false } = {}) {
    const { default: Koa } = await import('koa');
    const { default: Router } = await import('@koa/router');
    const app = new Koa();
    const router = new Router();
    if (hook) app.use((_ctx, next) => next());
    router.get('/users/me', (ctx) => {
      ctx.body = PAYLOAD;
    });
    app.use(router.routes());
    app.listen(port, '127.0.0.1', ready);
  },

  async hono(port, { hook = false } = {}) {
    const { Hono } = await import('hono');
    const { serve } = await import('@hono/node-server');
    const app = new Hono();
    if (hook) app.use((_c, next) => next());
    app.get('/users/me', (c) => c.json(PAYLOAD));
    serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, ready);
  },
};

/**
 * Bare node:http plus one Redis GET per request (ioredis, nothing else): what any stack
 * that makes one round trip per request pays in RSS and throughput before doing any work
 * of its own. Reports the commands it sent on SIGUSR2, as the other Redis servers do.
 */
export async function bareWithRedis(
  port: number,
  redisPort: number,
  statsFile: string,
): Promise<void> {
  const { Redis } = await import('ioredis');
  const client = new Redis(redisPort, '127.0.0.1');
  await client.ping();
  let sent = 0;
  process.on('SIGUSR2', () =>
    writeFileSync(statsFile, JSON.stringify({ redisCommandsSent: sent, storeErrors: 0 })),
  );
  createServer(async (req, res) => {
    if (req.url !== '/users/me') {
      res.writeHead(404).end();
      return;
    }
    sent++;
    await client.get('bench:bare');
    sendPayload(res);
  }).listen(port, '127.0.0.1', ready);
}
