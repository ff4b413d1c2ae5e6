// fastify: the popular stack (@fastify/jwt, @fastify/rate-limit, @fastify/helmet,
// fastify's pino logger, a prom-client hook), and the toolkit through @org/core/fastify.
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { hasRole, type PeerClaims, peerHistogram, REDACT, requestIdFrom } from './peer-shared.ts';
import {
  AUDIENCE,
  connectRedis,
  HUGE_LIMIT,
  ISSUER,
  logDestination,
  peerVerifyKey,
  ROLE,
  ready,
  type ServerSetup,
  userBody,
  WINDOW_MS,
} from './setup.ts';
import type { StackFactories } from './types.ts';

const PAYLOAD = userBody('u1', [ROLE]);

async function listen(app: FastifyInstance, port: number): Promise<void> {
  await app.listen({ port, host: '127.0.0.1' });
  ready();
}

/**
 * fastify's own pino logger with one line per request (its "request completed" line;
 * the "incoming request" line is turned off so every stack writes one line), the
 * request id echoed, and a prom-client histogram in an onResponse hook.
 */
function peerApp(setup: ServerSetup): FastifyInstance {
  const app = Fastify({
    logger: { redact: REDACT, stream: logDestination(setup.logFile) },
    // One access line per request, from the onResponse hook below (fastify's own two are off).
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (req) => requestIdFrom(req.headers['x-request-id']),
  });
  const histogram = peerHistogram();
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
    histogram.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: reply.statusCode,
      },
      reply.elapsedTime / 1000,
    );
  });
  return app;
}

export const stacks: StackFactories = {
  async peer(setup, port) {
    const { default: helmet } = await import('@fastify/helmet');
    const { default: rateLimit } = await import('@fastify/rate-limit');
    const { default: jwt } = await import('@fastify/jwt');
    const app = peerApp(setup);
    await app.register(helmet);
    await app.register(rateLimit, {
      max: HUGE_LIMIT,
      timeWindow: WINDOW_MS,
      ...(setup.store === 'redis' ? { redis: await connectRedis(setup) } : {}),
    });
    const key = peerVerifyKey(setup.key);
    await app.register(jwt, {
      secret: setup.key.alg === 'HS256' ? key : { public: key },
      verify: { algorithms: [setup.key.alg], allowedIss: ISSUER, allowedAud: AUDIENCE },
    });
    app.get(
      '/users/me',
      {
        onRequest: async (request) => {
          await request.jwtVerify();
        },
      },
      async (request, reply) => {
        const claims = request.user as PeerClaims;
        if (!hasRole(claims, ROLE)) return reply.code(403).send({ error: 'forbidden' });
        return userBody(claims.sub, claims.roles ?? []);
      },
    );
    await listen(app, port);
  },

  async ours(setup, port) {
    const { createFastifyAdapter } = await import('@org/core/fastify');
    const ours = await import('./ours.ts');
    const kit = createFastifyAdapter(await ours.oursToolkit(setup, 'full'));
    const user = await ours.oursGuard(setup);
    const app = Fastify();
    await app.register(kit.plugin);
    kit.mount(app, [ours.meRoute(user)]);
    await listen(app, port);
  },

  async 'peer-obs'(setup, port) {
    const app = peerApp(setup);
    app.get('/users/me', async () => PAYLOAD);
    await listen(app, port);
  },

  async 'ours-obs'(setup, port) {
    const { createFastifyAdapter } = await import('@org/core/fastify');
    const ours = await import('./ours.ts');
    const kit = createFastifyAdapter(await ours.oursToolkit(setup, 'observability'));
    const app = Fastify();
    await app.register(kit.plugin);
    kit.mount(app, [ours.meRoute()]);
    await listen(app, port);
  },
};
