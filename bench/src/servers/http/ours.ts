// The toolkit doing the peer stacks' work: verify the access token, require a role,
// rate limit, security headers, request id, one access line to a file, the
// route-template histogram. Framework-neutral: each framework file mounts its route.
import { createAccessTokenVerifier, createAuth, createKeySet } from '@org/auth';
import { createToolkit, defineRoute, type Plugin, type Route, type Toolkit } from '@org/core';
import {
  accessLog,
  createLogger,
  createMetrics,
  fileDestination,
  requestId,
} from '@org/observability';
import {
  createRateLimiter,
  MemoryRateLimitStore,
  type RateLimitStore,
  RedisRateLimitStore,
  rateLimitPlugin,
  securityHeaders,
} from '@org/security';
import {
  AUDIENCE,
  connectRedis,
  HUGE_LIMIT,
  ISSUER,
  ourSigningKey,
  ROLE,
  type ServerSetup,
  SUBJECT,
  stats,
  userBody,
  WINDOW_MS,
} from './setup.ts';

/** The toolkit's plugin layers, in the order the full stack installs them. */
export const LAYERS = ['headers', 'request-id', 'rate-limit', 'access-log', 'metrics'] as const;
export type Layer = (typeof LAYERS)[number];
/** The observability layer alone (its own micro-benchmark). */
const OBSERVABILITY: readonly Layer[] = ['request-id', 'access-log', 'metrics'];

/** The toolkit with every layer (`full`), the observability layer, or the layers named. */
export async function oursToolkit(
  setup: ServerSetup,
  layers: 'full' | 'observability' | readonly Layer[],
): Promise<Toolkit> {
  const wanted = new Set<Layer>(
    layers === 'full' ? LAYERS : layers === 'observability' ? OBSERVABILITY : layers,
  );
  const plugins: Plugin[] = [];
  if (wanted.has('headers')) plugins.push(securityHeaders());
  if (wanted.has('request-id')) plugins.push(requestId());
  if (wanted.has('rate-limit')) plugins.push(rateLimitPlugin(await oursLimiter(setup)));
  if (wanted.has('access-log')) {
    // The toolkit's own file destination (flushed on exit, so the runner's line count holds).
    const logger = createLogger({ destination: fileDestination({ path: setup.logFile }) });
    plugins.push(accessLog({ logger }));
  }
  if (wanted.has('metrics')) plugins.push(createMetrics().plugin);
  return createToolkit({ plugins });
}

async function oursLimiter(setup: ServerSetup) {
  let store: RateLimitStore = new MemoryRateLimitStore();
  if (setup.store !== 'memory') {
    const client = await connectRedis(setup);
    store = new RedisRateLimitStore({ client, lease: setup.store === 'redis-lease' });
  }
  return createRateLimiter({
    limit: HUGE_LIMIT,
    windowMs: WINDOW_MS,
    store,
    onStoreError: () => {
      stats.storeErrors++;
    },
  });
}

/** `auth.requireRoles('user')` over a verifier of the run's key (verified-token cache on, the default). */
export async function oursGuard(setup: ServerSetup) {
  const { key } = setup;
  const signingKey = await ourSigningKey(key);
  const verifier = createAccessTokenVerifier({
    keySet: createKeySet({ signingKey }),
    issuer: ISSUER,
    audience: AUDIENCE,
  });
  return createAuth({ verifier }).requireRoles(ROLE);
}

/**
 * `GET /users/me` as every framework mounts it (`kit.mount`, `app.mount`): the verified
 * caller's profile, or without `user` (the observability stack) a fixed one.
 */
export function meRoute(user?: Awaited<ReturnType<typeof oursGuard>>): Route {
  if (user === undefined) {
    const body = userBody(SUBJECT, [ROLE]);
    return defineRoute({ method: 'GET', path: '/users/me', handler: () => ({ body }) });
  }
  return defineRoute({
    method: 'GET',
    path: '/users/me',
    dependencies: { user },
    handler: (_ctx, { user }) => ({ body: userBody(user.sub, user.roles ?? []) }),
  });
}
