// The toolkit doing the peer stacks' work: verify the access token, require a role,
// rate limit, security headers, request id, one access line to a file, the
// route-template histogram. Framework-neutral: each framework file mounts it.
import { createAccessTokenVerifier, createAuth, createKeySet } from '@org/auth';
import { createToolkit, type Plugin, type Toolkit } from '@org/core';
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
  stats,
  WINDOW_MS,
} from './setup.ts';

/** Which layers to install: everything, or only the observability layer (its own micro-benchmark). */
export type Layers = 'full' | 'observability';

export async function oursToolkit(setup: ServerSetup, layers: Layers): Promise<Toolkit> {
  // The toolkit's own file destination (flushed on exit, so the runner's line count holds).
  const logger = createLogger({ destination: fileDestination({ path: setup.logFile }) });
  const metrics = createMetrics();
  const observability: Plugin[] = [requestId(), accessLog({ logger }), metrics.plugin];
  if (layers === 'observability') return createToolkit({ plugins: observability });
  let store: RateLimitStore = new MemoryRateLimitStore();
  if (setup.store === 'redis')
    store = new RedisRateLimitStore({ client: await connectRedis(setup) });
  const limiter = createRateLimiter({
    limit: HUGE_LIMIT,
    windowMs: WINDOW_MS,
    store,
    onStoreError: () => {
      stats.storeErrors++;
    },
  });
  return createToolkit({
    plugins: [
      securityHeaders(),
      ...observability.slice(0, 1),
      rateLimitPlugin(limiter),
      ...observability.slice(1),
    ],
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
