import type { AdapterFixture } from './fixture.js';

/** Filled in when the express adapter lands; null keeps it out of the suites until then. */
export const expressFixture: AdapterFixture | null = null;
