// node:http: the toolkit through @org/core/node (no popular stack exists).
import { createServer } from 'node:http';
import { ready, userBody } from './setup.ts';
import type { StackFactories } from './types.ts';

export const stacks: StackFactories = {
  async ours(setup, port) {
    const { createNodeAdapter } = await import('@org/core/node');
    const ours = await import('./ours.ts');
    const app = createNodeAdapter(await ours.oursToolkit(setup, 'full'));
    const user = await ours.oursGuard(setup);
    app.get('/users/me', { user }, (_ctx, values) => ({
      body: userBody(values.user.sub, values.user.roles ?? []),
    }));
    createServer(app.handler).listen(port, '127.0.0.1', ready);
  },
};
