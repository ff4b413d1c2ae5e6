// express: the popular stack (express-jwt, express-rate-limit, helmet, pino-http,
// prom-client), and the toolkit through @org/core/express.
import express, { type RequestHandler } from 'express';
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
  type ServerSetup,
  userBody,
  WINDOW_MS,
} from './setup.ts';
import type { StackFactories } from './types.ts';

const PAYLOAD = userBody('u1', [ROLE]);

function listen(app: express.Express, port: number): Promise<void> {
  return new Promise((resolve) => {
    app.listen(port, '127.0.0.1', () => {
      ready();
      resolve();
    });
  });
}

/** pino-http (one line per request, with the request id echoed) and a prom-client middleware. */
async function peerObservability(setup: ServerSetup): Promise<RequestHandler[]> {
  const { pinoHttp } = await import('pino-http');
  const histogram = peerHistogram();
  const logging = pinoHttp({
    logger: peerLogger(setup.logFile),
    genReqId: (req, res) => {
      const id = requestIdFrom(req.headers['x-request-id']);
      res.setHeader('x-request-id', id);
      return id;
    },
  });
  const metrics: RequestHandler = (req, res, next) => {
    const end = histogram.startTimer();
    res.on('finish', () => {
      end({
        method: req.method,
        route: (req.route as { path?: string } | undefined)?.path ?? 'unmatched',
        status_code: res.statusCode,
      });
    });
    next();
  };
  return [logging, metrics];
}

export const stacks: StackFactories = {
  async peer(setup, port) {
    const { default: helmet } = await import('helmet');
    const { expressjwt } = await import('express-jwt');
    const { rateLimit } = await import('express-rate-limit');
    const app = express();
    app.use(helmet());
    app.use(...(await peerObservability(setup)));
    let store: import('express-rate-limit').Store | undefined;
    if (setup.store === 'redis') {
      const { RedisStore } = await import('rate-limit-redis');
      const client = await connectRedis(setup);
      store = new RedisStore({
        sendCommand: (command: string, ...args: string[]) =>
          client.call(command, ...args) as Promise<never>,
      });
    }
    app.use(
      rateLimit({
        windowMs: WINDOW_MS,
        limit: HUGE_LIMIT,
        standardHeaders: 'draft-8',
        legacyHeaders: false,
        ...(store ? { store } : {}),
      }),
    );
    app.use(
      expressjwt({
        secret: peerVerifyKey(setup.key),
        algorithms: [setup.key.alg],
        issuer: ISSUER,
        audience: AUDIENCE,
      }),
    );
    app.get('/users/me', (req, res) => {
      const claims = (req as { auth?: PeerClaims }).auth;
      if (!hasRole(claims, ROLE)) {
        res.status(403).json({ error: 'forbidden' });
        return;
      }
      res.json(userBody((claims as PeerClaims).sub, (claims as PeerClaims).roles ?? []));
    });
    await listen(app, port);
  },

  async ours(setup, port) {
    const { createExpressAdapter } = await import('@org/core/express');
    const ours = await import('./ours.ts');
    const kit = createExpressAdapter(await ours.oursToolkit(setup, 'full'));
    const user = await ours.oursGuard(setup);
    const app = express();
    app.use(kit.middleware);
    kit.mount(app, [ours.meRoute(user)]);
    app.use(kit.notFound, kit.errorHandler);
    await listen(app, port);
  },

  async 'peer-obs'(setup, port) {
    const app = express();
    app.use(...(await peerObservability(setup)));
    app.get('/users/me', (_req, res) => {
      res.json(PAYLOAD);
    });
    await listen(app, port);
  },

  async 'ours-obs'(setup, port) {
    const { createExpressAdapter } = await import('@org/core/express');
    const ours = await import('./ours.ts');
    const kit = createExpressAdapter(await ours.oursToolkit(setup, 'observability'));
    const app = express();
    app.use(kit.middleware);
    kit.mount(app, [ours.meRoute()]);
    app.use(kit.notFound, kit.errorHandler);
    await listen(app, port);
  },
};
