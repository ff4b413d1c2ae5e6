import type { Dependency, Plugin } from '@org/core';
import type { Cluster, Redis } from 'ioredis';
import { describe, expectTypeOf, it } from 'vitest';
import {
  clientIp,
  cors,
  createLoginGuard,
  createRateLimiter,
  type IdempotencyResult,
  type IdempotencyStore,
  idempotency,
  type LoginGuard,
  MemoryIdempotencyStore,
  type MemoryRateLimitStore,
  noStoreDependency,
  type RateLimitResult,
  type RateLimitStore,
  type RedisIdempotencyStore,
  type RedisRateLimitStore,
  rateLimit,
  rateLimitPlugin,
  securityHeaders,
} from './index.js';

describe('@org/security public types', () => {
  it('types the idempotency dependency and its stores', () => {
    expectTypeOf<Redis>().toExtend<
      ConstructorParameters<typeof RedisIdempotencyStore>[0]['client']
    >();
    expectTypeOf<Cluster>().toExtend<
      ConstructorParameters<typeof RedisIdempotencyStore>[0]['client']
    >();
    expectTypeOf<RedisIdempotencyStore>().toExtend<IdempotencyStore>();
    expectTypeOf(idempotency({ store: new MemoryIdempotencyStore() })).toEqualTypeOf<
      Dependency<IdempotencyResult>
    >();
    // @ts-expect-error the store is required
    idempotency({});
  });

  it('accepts ioredis Redis and Cluster clients', () => {
    expectTypeOf<Redis>().toExtend<
      ConstructorParameters<typeof RedisRateLimitStore>[0]['client']
    >();
    expectTypeOf<Cluster>().toExtend<
      ConstructorParameters<typeof RedisRateLimitStore>[0]['client']
    >();
    expectTypeOf<RedisRateLimitStore>().toExtend<RateLimitStore>();
    expectTypeOf<MemoryRateLimitStore>().toExtend<RateLimitStore>();
  });

  it('gives dependencies and plugins the kernel types', () => {
    expectTypeOf(rateLimit()).toEqualTypeOf<Dependency<RateLimitResult>>();
    expectTypeOf(rateLimit(createRateLimiter())).toEqualTypeOf<Dependency<RateLimitResult>>();
    expectTypeOf(noStoreDependency).toEqualTypeOf<Dependency<void>>();
    expectTypeOf(rateLimitPlugin()).toEqualTypeOf<Plugin>();
    expectTypeOf(clientIp()).toEqualTypeOf<Plugin>();
    expectTypeOf(cors()).toEqualTypeOf<Plugin>();
    expectTypeOf(securityHeaders()).toEqualTypeOf<Plugin>();
    expectTypeOf(createLoginGuard()).toEqualTypeOf<LoginGuard>();
  });

  it('rejects options that do not exist or have the wrong type', () => {
    // @ts-expect-error trustProxy: true would trust anyone
    clientIp({ trustProxy: true });
    // @ts-expect-error unknown algorithm
    rateLimit({ algorithm: 'leaky-bucket' });
    // @ts-expect-error origins take strings or RegExps
    cors({ origins: [42] });
  });
});
