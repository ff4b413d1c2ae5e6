// What the @org/auth README's example takes as given: a user and an app.
import { createToolkit as createToolkitForReadme } from '@org/core';
import { createNodeAdapter as createNodeAdapterForReadme } from '@org/core/node';

export const user = { id: 'user-1', roles: ['admin'] };
export const app = createNodeAdapterForReadme(createToolkitForReadme());
