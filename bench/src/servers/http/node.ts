// node:http: the toolkit through @org/core/node (no popular stack exists).
import { createServer } from 'node:http';
import type { Layer } from './ours.ts';
import { ready, type ServerSetup } from './setup.ts';
import type { StackFactories } from './types.ts';

/** The toolkit on node:http with `layers`: auth (the route's dependency) and the toolkit's LAYERS. */
async function serve(setup: ServerSetup, port: number, layers: readonly string[]): Promise<void> {
  const { createNodeAdapter } = await import('@org/core/node');
  const ours = await import('./ours.ts');
  const plugins = layers.filter((name) => name !== 'auth');
  const unknown = plugins.filter((name) => !(ours.LAYERS as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`unknown layers: ${unknown.join(', ')}`);
  const app = createNodeAdapter(await ours.oursToolkit(setup, plugins as Layer[]));
  const user = layers.includes('auth') ? await ours.oursGuard(setup) : undefined;
  app.mount([ours.meRoute(user)]);
  createServer(app.handler).listen(port, '127.0.0.1', ready);
}

export const stacks: StackFactories = {
  async ours(setup, port) {
    const { LAYERS } = await import('./ours.ts');
    await serve(setup, port, ['auth', ...LAYERS]);
  },
  // The same work written by hand for this route: the floor under `ours` (not in the tables).
  async floor(setup, port) {
    const { floor } = await import('./floor.ts');
    floor(setup, port);
  },
  // Only the layers BENCH_LAYERS names (comma-separated), for `pnpm --dir bench bench:layers`.
  layers: (setup, port) =>
    serve(
      setup,
      port,
      (process.env.BENCH_LAYERS ?? '').split(',').filter((name) => name !== ''),
    ),
};
