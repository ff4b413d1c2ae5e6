import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const packages = ['core', 'auth', 'security', 'observability', 'testing'] as const;

/** Tests run against the sources, so `pnpm test` needs no build first. */
const alias = [
  { find: /^@org\/core\/adapter$/, replacement: here('./packages/core/src/adapter/index.ts') },
  {
    find: /^@org\/core\/(express|fastify|koa|hono|node|nest)$/,
    replacement: here('./packages/core/src/adapters/$1/index.ts'),
  },
  { find: /^@org\/testing\/vitest$/, replacement: here('./packages/testing/src/vitest.ts') },
  ...packages.map((name) => ({
    find: new RegExp(`^@org/${name}$`),
    replacement: here(`./packages/${name}/src/index.ts`),
  })),
];

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      ...packages.map((name) => ({
        extends: true as const,
        test: {
          name,
          include: [`packages/${name}/{src,test}/**/*.test.ts`],
          typecheck: { enabled: true, include: [`packages/${name}/{src,test}/**/*.test-d.ts`] },
        },
      })),
      {
        extends: true as const,
        test: {
          name: 'examples',
          include: ['examples/*/test/**/*.test.ts'],
          // The example processes import the built packages: build them when missing or stale.
          globalSetup: ['examples/e2e/test/global-setup.ts'],
          // Each file starts real processes (and a redis-server) and mostly waits on them,
          // so two files at a time keep two cores busy.
          maxWorkers: 2,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
    // CI asks for a machine-readable copy of the results to print its summary line.
    reporters: process.env.VITEST_JSON_REPORT
      ? ['default', ['json', { outputFile: process.env.VITEST_JSON_REPORT }]]
      : ['default'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
