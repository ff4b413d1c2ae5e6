// hono on @hono/node-server: the popular stack (hono/jwt, hono-rate-limiter,
// secureHeaders, requestId, a pino logger, prom-client), and the toolkit through
// @org/core/hono.
import { performance } from 'node:perf_hooks';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { hasRole, type PeerClaims, peerHistogram, peerLogger } from './peer-shared.ts';
import {
  AUDIENCE,
  connectRedis,
  HUGE_LIMIT,
  ISSUER,
  peerVerifyKey,
  ROLE,
  ready,
  userBody,
  WINDOW_MS,
} from './setup.ts';
import type { StackFactories } from './types.ts';

// biome-ignore lint/suspicious/noExplicitAny: each app has its own Env type.
function listen(app: Hono<any>, port: number): Promise<void> {
  return new Promise((resolve) => {
    serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => {
      ready();
      resolve();
    });
  });
}

export const stacks: StackFactories = {
  async peer(setup, port) {
    const { secureHeaders } = await import('hono/secure-headers');
    const { requestId } = await import('hono/request-id');
    const { jwt } = await import('hono/jwt');
    const { routePath } = await import('hono/route');
    const { getConnInfo } = await import('@hono/node-server/conninfo');
    const { rateLimiter, RedisStore } = await import('hono-rate-limiter');
    const logger = peerLogger(setup.logFile);
    const histogram = peerHistogram();
    const app = new Hono<{ Variables: { requestId: string; jwtPayload: PeerClaims } }>();
    app.use(secureHeaders());
    app.use(requestId());
    app.use(async (c, next) => {
      const started = performance.now();
      await next();
      const ms = performance.now() - started;
      logger.info(
        {
          reqId: c.get('requestId'),
          req: { method: c.req.method, url: c.req.path },
          res: { statusCode: c.res.status },
          responseTime: ms,
        },
        'request completed',
      );
      histogram.observe(
        { method: c.req.method, route: routePath(c, -1), status_code: c.res.status },
        ms / 1000,
      );
    });
    let store: InstanceType<typeof RedisStore> | undefined;
    if (setup.store === 'redis') {
      const client = await connectRedis(setup);
      store = new RedisStore({
        client: {
          scriptLoad: (script) => client.script('LOAD', script) as Promise<string>,
          evalsha: (sha, keys, args) =>
            client.evalsha(sha, keys.length, ...keys, ...(args as string[])) as Promise<never>,
          decr: (key) => client.decr(key),
          del: (key) => client.del(key),
        },
      });
    }
    app.use(
      rateLimiter({
        windowMs: WINDOW_MS,
        limit: HUGE_LIMIT,
        standardHeaders: 'draft-7',
        keyGenerator: (c) => getConnInfo(c).remote.address ?? '',
        ...(store ? { store } : {}),
      }),
    );
    app.use(
      '/users/*',
      jwt({
        secret: peerVerifyKey(setup.key),
        alg: setup.key.alg,
        verification: { iss: ISSUER, aud: AUDIENCE, typ: 'at+jwt' },
      }),
    );
    app.get('/users/me', (c) => {
      const claims = c.get('jwtPayload');
      if (!hasRole(claims, ROLE)) return c.json({ error: 'forbidden' }, 403);
      return c.json(userBody(claims.sub, claims.roles ?? []));
    });
    await listen(app, port);
  },

  async ours(setup, port) {
    const { createHonoAdapter } = await import('@org/core/hono');
    const ours = await import('./ours.ts');
    const kit = createHonoAdapter(await ours.oursToolkit(setup, 'full'));
    const user = await ours.oursGuard(setup);
    const app = new Hono();
    kit.mount(kit.install(app), [ours.meRoute(user)]);
    await listen(app, port);
  },
};
