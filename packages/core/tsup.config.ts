import { packageConfig } from '../../tsup.base.ts';

export default packageConfig({
  index: 'src/index.ts',
  express: 'src/adapters/express/index.ts',
  fastify: 'src/adapters/fastify/index.ts',
  koa: 'src/adapters/koa/index.ts',
  hono: 'src/adapters/hono/index.ts',
  node: 'src/adapters/node/index.ts',
  nest: 'src/adapters/nest/index.ts',
  adapter: 'src/adapter/index.ts',
});
