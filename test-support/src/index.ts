export { FileBody, StreamBody } from './bodies.js';
export {
  type ClientRequestOptions,
  type ClientResponse,
  readBody,
  sendRequest,
} from './client.js';
export { deferred } from './deferred.js';
export type { AdapterFixture, AdapterName, RouteSpec, RunningApp } from './fixture.js';
export { listen } from './listen.js';
export {
  abandonRequest,
  type RawConnection,
  rawConnection,
  rawExchange,
} from './raw-exchange.js';
export { createSelfSignedCertificate } from './tls.js';
export type { NodeServer, StartOptions, TlsCredentials, Transport } from './transport.js';

import { expressFixture } from './express.js';
import { fastifyFixture } from './fastify.js';
import type { AdapterFixture } from './fixture.js';
import { honoFixture } from './hono.js';
import { koaFixture } from './koa.js';
import { nodeFixture } from './node.js';

/** Every adapter fixture; suites run `describe.each(adapters)`. */
export const adapters: readonly AdapterFixture[] = [
  expressFixture,
  fastifyFixture,
  koaFixture,
  honoFixture,
  nodeFixture,
].filter((fixture): fixture is AdapterFixture => fixture !== null);
export { type PostgresServer, type RedisServer, startPostgres, startRedis } from '@org/testing';
export {
  type RedisTopology,
  type RedisTopologyName,
  redisTopologies,
} from './redis-topologies.js';
