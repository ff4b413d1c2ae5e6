// Imports every published entry point of the @org packages and calls one function of
// each. scripts/consumer-check.mjs typechecks it under each fixture's settings,
// compiles it and runs the output with node.

import { createTokenExtractor } from '@org/auth';
import { createToolkit, isHttpError, NotFoundError } from '@org/core';
import { positiveInteger } from '@org/core/adapter';
import { createExpressAdapter } from '@org/core/express';
import { createFastifyAdapter } from '@org/core/fastify';
import { createHonoAdapter } from '@org/core/hono';
import { createKoaAdapter } from '@org/core/koa';
import { OrgToolkitModule } from '@org/core/nest';
import { createNodeAdapter } from '@org/core/node';
import { parseTraceparent } from '@org/observability';
import { normalizeIp } from '@org/security';
import { createTestClock, type PublicJwk } from '@org/testing';
import type * as testingVitest from '@org/testing/vitest';

async function main(): Promise<void> {
  // vitest refuses require(), so even a CommonJS project loads this entry point the way
  // vitest runs test files: with import().
  // The type-only import above checks the declarations this project's own mode picks.
  const { securityConformance }: typeof testingVitest = await import('@org/testing/vitest');
  const toolkit = createToolkit();
  const adapters = [
    createExpressAdapter(toolkit),
    createFastifyAdapter(toolkit),
    createHonoAdapter(toolkit),
    createKoaAdapter(toolkit),
    createNodeAdapter(toolkit),
  ];
  const key: PublicJwk = { kty: 'EC', kid: 'k1', crv: 'P-256', x: 'x', y: 'y' };
  const checks: Record<string, boolean> = {
    'core errors': isHttpError(new NotFoundError()),
    'core/adapter': positiveInteger('consumer', 'limit', undefined, 10) === 10,
    'core/nest': typeof OrgToolkitModule.forRoot === 'function',
    adapters: adapters.every((adapter) => adapter !== undefined),
    auth: typeof createTokenExtractor() === 'function',
    security: normalizeIp('::ffff:127.0.0.1') === '127.0.0.1',
    observability:
      parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01') !== undefined,
    testing: createTestClock(0).advance(1000) === 1000 && key.kty === 'EC',
    // Registering the suite needs a running vitest; loading the entry point is the check.
    'testing/vitest': typeof securityConformance === 'function',
  };
  const failed = Object.entries(checks).filter(([, ok]) => !ok);
  if (failed.length > 0) {
    console.error(`failed: ${failed.map(([name]) => name).join(', ')}`);
    process.exit(1);
  }
  console.log(`ok: ${Object.keys(checks).join(', ')} on node ${process.version}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
