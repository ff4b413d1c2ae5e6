// What the @org/testing README's example takes as given: the app's build function.
import type { Clock } from '@org/core';
import { createToolkit as createToolkitForReadme } from '@org/core';
import { createNodeAdapter as createNodeAdapterForReadme } from '@org/core/node';

export const buildApp = async ({ clock }: { clock: Clock }) => {
  const app = createNodeAdapterForReadme(createToolkitForReadme());
  app.get('/now', {}, () => ({ body: { now: clock.now() } }));
  return app;
};
