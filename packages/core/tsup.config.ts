import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    express: 'src/adapters/express/index.ts',
    fastify: 'src/adapters/fastify/index.ts',
    koa: 'src/adapters/koa/index.ts',
    hono: 'src/adapters/hono/index.ts',
    node: 'src/adapters/node/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: { compilerOptions: { composite: false } },
  sourcemap: true,
  clean: true,
  splitting: true,
  treeshake: true,
  target: 'node22',
  tsconfig: 'tsconfig.build.json',
});
