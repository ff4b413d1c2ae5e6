import type { AdapterFixture } from './fixture.js';

/** Filled in when the fastify adapter lands; null keeps it out of the suites until then. */
export const fastifyFixture: AdapterFixture | null = null;
