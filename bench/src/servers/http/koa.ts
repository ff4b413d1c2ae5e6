// koa: the popular stack (koa-jwt, koa-ratelimit, koa-helmet, a pino logger,
// prom-client), and the toolkit through @org/core/koa.
import { performance } from 'node:perf_hooks';
import Router from '@koa/router';
import Koa from 'koa';
import {
  hasRole,
  type PeerClaims,
  peerHistogram,
  peerLogger,
  requestIdFrom,
} from './peer-shared.ts';
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

function listen(app: Koa, router: Router, port: number): Promise<void> {
  app.use(router.routes());
  return new Promise((resolve) => {
    app.listen(port, '127.0.0.1', () => {
      ready();
      resolve();
    });
  });
}

export const stacks: StackFactories = {
  async peer(setup, port) {
    const { default: helmet } = await import('koa-helmet');
    const { default: ratelimit } = await import('koa-ratelimit');
    const { default: koaJwt } = await import('koa-jwt');
    const logger = peerLogger(setup.logFile);
    const histogram = peerHistogram();
    const app = new Koa();
    const router = new Router();
    app.use(helmet());
    // Request id, one access line and the histogram, around everything else.
    app.use(async (ctx, next) => {
      const started = performance.now();
      const id = requestIdFrom(ctx.get('x-request-id') || undefined);
      ctx.set('x-request-id', id);
      try {
        await next();
      } finally {
        const ms = performance.now() - started;
        const route = (ctx as { _matchedRoute?: unknown })._matchedRoute;
        logger.info(
          {
            reqId: id,
            req: { method: ctx.method, url: ctx.url },
            res: { statusCode: ctx.status },
            responseTime: ms,
          },
          'request completed',
        );
        histogram.observe(
          {
            method: ctx.method,
            route: typeof route === 'string' ? route : 'unmatched',
            status_code: ctx.status,
          },
          ms / 1000,
        );
      }
    });
    app.use(
      ratelimit({
        driver: setup.store === 'redis' ? 'redis' : 'memory',
        db: setup.store === 'redis' ? await connectRedis(setup) : new Map(),
        duration: WINDOW_MS,
        max: HUGE_LIMIT,
        id: (ctx) => ctx.ip,
      }),
    );
    app.use(
      koaJwt({
        secret: peerVerifyKey(setup.key),
        algorithms: [setup.key.alg],
        issuer: ISSUER,
        audience: AUDIENCE,
      }),
    );
    router.get('/users/me', (ctx) => {
      const claims = ctx.state.user as PeerClaims | undefined;
      if (!hasRole(claims, ROLE)) ctx.throw(403);
      ctx.body = userBody((claims as PeerClaims).sub, (claims as PeerClaims).roles ?? []);
    });
    await listen(app, router, port);
  },

  async ours(setup, port) {
    const { createKoaAdapter } = await import('@org/core/koa');
    const ours = await import('./ours.ts');
    const kit = createKoaAdapter(await ours.oursToolkit(setup, 'full'));
    const user = await ours.oursGuard(setup);
    const app = new Koa();
    const router = new Router();
    app.use(kit.middleware);
    kit.mount(router, [ours.meRoute(user)]);
    await listen(app, router, port);
  },
};
