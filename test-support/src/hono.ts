import type { AdapterFixture } from './fixture.js';

/** Filled in when the hono adapter lands; null keeps it out of the suites until then. */
export const honoFixture: AdapterFixture | null = null;
