/**
 * Test helpers for apps built on the @org toolkit.
 *
 * @module
 */
export {
  RedisNotInstalledError,
  type RedisServer,
  type StartRedisOptions,
  startRedis,
} from './redis/start-redis.js';
