export type { AdapterFixture, AdapterName, RouteSpec, RunningApp } from './fixture.js';
export { listen } from './listen.js';

import type { AdapterFixture } from './fixture.js';
import { nodeFixture } from './node.js';

/** Every adapter fixture; suites run `describe.each(adapters)`. */
export const adapters: readonly AdapterFixture[] = [nodeFixture];
