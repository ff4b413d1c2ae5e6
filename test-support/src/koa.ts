import type { AdapterFixture } from './fixture.js';

/** Filled in when the koa adapter lands; null keeps it out of the suites until then. */
export const koaFixture: AdapterFixture | null = null;
