// The CommonJS consumer: `require` of every published entry point of the @org
// packages, typechecked with checkJs and run as is by scripts/consumer-check.mjs.
'use strict';
const { createToolkit, isHttpError, NotFoundError } = require('@org/core');
const { positiveInteger } = require('@org/core/adapter');
const { createExpressAdapter } = require('@org/core/express');
const { createFastifyAdapter } = require('@org/core/fastify');
const { createHonoAdapter } = require('@org/core/hono');
const { createKoaAdapter } = require('@org/core/koa');
const { OrgToolkitModule } = require('@org/core/nest');
const { createNodeAdapter } = require('@org/core/node');
const { createTokenExtractor } = require('@org/auth');
const { normalizeIp } = require('@org/security');
const { parseTraceparent } = require('@org/observability');
const { createTestClock } = require('@org/testing');

async function main() {
  // vitest refuses require(), so even a CommonJS project loads this entry point the way
  // vitest runs test files: with import().
  /** @type {typeof import('@org/testing/vitest')} (the declarations require() picks) */
  const { securityConformance } = await import('@org/testing/vitest');
  const toolkit = createToolkit();
  const adapters = [
    createExpressAdapter(toolkit),
    createFastifyAdapter(toolkit),
    createHonoAdapter(toolkit),
    createKoaAdapter(toolkit),
    createNodeAdapter(toolkit),
  ];
  /** @type {import('@org/testing').PublicJwk} */
  const key = { kty: 'EC', kid: 'k1', crv: 'P-256', x: 'x', y: 'y' };
  /** @type {Record<string, boolean>} */
  const checks = {
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

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
