import { randomUUID } from 'node:crypto';
import {
  ConfigurationError,
  type Context,
  createToolkit,
  defineDependency,
  principalIdKey,
} from '@org/core';
import {
  adapters,
  deferred,
  type RedisServer,
  type RouteSpec,
  type RunningApp,
  startRedis,
} from '@org/test-support';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../internal/fake-context.js';
import { type IdempotencyOptions, idempotency } from './idempotency.js';
import { MemoryIdempotencyStore } from './memory-store.js';
import { RedisIdempotencyStore } from './redis-store.js';
import type { IdempotencyStore } from './store.js';

let redis: RedisServer;
let client: Redis;
beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

const stores: [string, () => IdempotencyStore][] = [
  ['memory', () => new MemoryIdempotencyStore()],
  ['redis', () => new RedisIdempotencyStore({ client, prefix: `t${randomUUID()}:` })],
];

/** Sets the principal from `X-User`, as an auth dependency would. */
const principal = defineDependency({
  name: 'principal',
  resolve: (ctx) => {
    const id = ctx.request.header('x-user');
    if (id !== undefined) ctx.set(principalIdKey, id);
    return id;
  },
});

/** What the handler of `POST /orders` does on each run, counted. */
interface Orders {
  runs: number;
  /** When set, the next run waits for it (and says it started). */
  gate?: { started: () => void; release: Promise<void> } | undefined;
  /** What the next run answers instead of 201, or throws. */
  outcome?: 'throw' | 404 | undefined;
}

function ordersRoute(
  orders: Orders,
  options: Partial<IdempotencyOptions> & { store: IdempotencyStore },
  native = false,
): RouteSpec {
  return {
    method: 'POST',
    path: '/orders',
    dependencies: { principal, idempotency: idempotency({ after: [principal], ...options }) },
    ...(native ? { native: true as const } : {}),
    handler: async (ctx: Context) => {
      const run = ++orders.runs;
      const gate = orders.gate;
      if (gate !== undefined) {
        orders.gate = undefined;
        gate.started();
        await gate.release;
      }
      const outcome = orders.outcome;
      orders.outcome = undefined;
      if (outcome === 'throw') throw new Error('database down');
      if (outcome === 404) return { status: 404, body: { run } };
      const input = (await ctx.request.body()) as { item: string };
      return {
        status: 201,
        headers: { location: `/orders/${run}` },
        body: { id: run, item: input.item, by: ctx.principalId ?? null },
      };
    },
  };
}

interface Answer {
  status: number;
  headers: Headers;
  bytes: Buffer;
}

async function post(
  url: string,
  key: string | undefined,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(`${url}/orders`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key === undefined ? {} : { 'idempotency-key': key }),
      ...headers,
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

const json = (answer: Answer) =>
  JSON.parse(answer.bytes.toString('utf8')) as Record<string, unknown>;

describe.each(adapters)('Idempotency-Key on $name', (fixture) => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  const start = async (routes: RouteSpec[], onError?: (error: unknown) => void) => {
    app = await fixture.start(createToolkit(onError === undefined ? {} : { onError }), routes);
    return app.url;
  };

  describe.each(stores)('%s store', (_storeName, makeStore) => {
    it('stores the first response and replays it byte for byte for a retry', async () => {
      const orders: Orders = { runs: 0 };
      const url = await start([ordersRoute(orders, { store: makeStore() })]);
      const first = await post(url, '"order-1"', { item: 'book' });
      expect(first.status).toBe(201);
      expect(json(first)).toEqual({ id: 1, item: 'book', by: null });
      expect(first.headers.get('location')).toBe('/orders/1');
      expect(first.headers.get('idempotent-replayed')).toBeNull();

      const retry = await post(url, '"order-1"', { item: 'book' });
      expect(retry.status).toBe(201);
      expect(retry.bytes.equals(first.bytes)).toBe(true);
      expect(retry.headers.get('content-type')).toBe(first.headers.get('content-type'));
      expect(retry.headers.get('location')).toBe('/orders/1');
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(orders.runs).toBe(1);

      // Another key is another operation; no key at all runs unprotected.
      expect(json(await post(url, '"order-2"', { item: 'book' }))).toMatchObject({ id: 2 });
      expect(json(await post(url, undefined, { item: 'book' }))).toMatchObject({ id: 3 });
      expect(orders.runs).toBe(3);
    });

    it('answers 409 to a duplicate while the first request still runs', async () => {
      const started = deferred();
      const release = deferred();
      const orders: Orders = {
        runs: 0,
        gate: { started: () => started.resolve(), release: release.promise },
      };
      const url = await start([ordersRoute(orders, { store: makeStore() })]);
      const first = post(url, '"slow"', { item: 'pen' });
      await started.promise;
      const duplicate = await post(url, '"slow"', { item: 'pen' });
      expect(duplicate.status).toBe(409);
      expect(duplicate.headers.get('content-type')).toContain('application/problem+json');
      expect(duplicate.headers.get('retry-after')).toBe('1');
      expect(json(duplicate)).toMatchObject({ status: 409, code: 'ERR_IDEMPOTENCY_KEY_IN_USE' });
      release.resolve();
      expect((await first).status).toBe(201);
      const retry = await post(url, '"slow"', { item: 'pen' });
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(orders.runs).toBe(1);
    });

    it('answers 422 when the key comes back with a different request', async () => {
      const orders: Orders = { runs: 0 };
      const url = await start([ordersRoute(orders, { store: makeStore() })]);
      expect((await post(url, '"k"', { item: 'book' })).status).toBe(201);
      const other = await post(url, '"k"', { item: 'lamp' });
      expect(other.status).toBe(422);
      expect(other.headers.get('content-type')).toContain('application/problem+json');
      expect(json(other)).toMatchObject({ status: 422, code: 'ERR_IDEMPOTENCY_KEY_REUSED' });
      expect(orders.runs).toBe(1);
    });

    it('answers 400 to a malformed key, and runs nothing', async () => {
      const orders: Orders = { runs: 0 };
      const url = await start([ordersRoute(orders, { store: makeStore(), maxKeyLength: 8 })]);
      for (const key of ['order-1', '""', '"a"b"', '"tab\there"', '"123456789"', '"a", "b"']) {
        const answer = await post(url, key, { item: 'book' });
        expect(answer.status, key).toBe(400);
        expect(answer.headers.get('content-type')).toContain('application/problem+json');
        expect(json(answer)).toMatchObject({ status: 400, code: 'ERR_IDEMPOTENCY_KEY_INVALID' });
      }
      expect(orders.runs).toBe(0);
      // Escapes are part of the sf-string syntax; within the bound, they are fine.
      expect((await post(url, ' "a\\"b\\\\" ', { item: 'book' })).status).toBe(201);
    });

    it('releases the key when the first attempt fails (5xx, thrown) or is refused (4xx)', async () => {
      const orders: Orders = { runs: 0, outcome: 'throw' };
      const url = await start([ordersRoute(orders, { store: makeStore() })], () => {});
      expect((await post(url, '"f"', { item: 'book' })).status).toBe(500);
      orders.outcome = 404;
      expect((await post(url, '"f"', { item: 'book' })).status).toBe(404);
      const third = await post(url, '"f"', { item: 'book' });
      expect(third.status).toBe(201);
      expect(third.headers.get('idempotent-replayed')).toBeNull();
      expect((await post(url, '"f"', { item: 'book' })).headers.get('idempotent-replayed')).toBe(
        'true',
      );
      expect(orders.runs).toBe(3);
    });

    it("scopes keys to the principal: B's key never replays A's response", async () => {
      const orders: Orders = { runs: 0 };
      const url = await start([ordersRoute(orders, { store: makeStore() })]);
      const alice = await post(url, '"same"', { item: 'book' }, { 'x-user': 'alice' });
      const bob = await post(url, '"same"', { item: 'book' }, { 'x-user': 'bob' });
      expect(json(alice)).toMatchObject({ id: 1, by: 'alice' });
      expect(json(bob)).toMatchObject({ id: 2, by: 'bob' });
      expect(bob.headers.get('idempotent-replayed')).toBeNull();
      // Anonymous clients are scoped by IP: neither user's record is theirs.
      expect(json(await post(url, '"same"', { item: 'book' }))).toMatchObject({ id: 3, by: null });
      const again = await post(url, '"same"', { item: 'book' }, { 'x-user': 'alice' });
      expect(again.bytes.equals(alice.bytes)).toBe(true);
    });

    it('does not keep a body over maxBodyBytes, and never runs the request twice', async () => {
      const orders: Orders = { runs: 0 };
      const url = await start([ordersRoute(orders, { store: makeStore(), maxBodyBytes: 16 })]);
      expect((await post(url, '"big"', { item: 'a long item name' })).status).toBe(201);
      const retry = await post(url, '"big"', { item: 'a long item name' });
      expect(retry.status).toBe(409);
      expect(json(retry)).toMatchObject({ code: 'ERR_IDEMPOTENCY_RESPONSE_NOT_STORED' });
      expect(orders.runs).toBe(1);
    });
  });

  it('answers 503 when the store cannot claim, and runs nothing unprotected', async () => {
    const down: IdempotencyStore = {
      claim: () => Promise.reject(new Error('ECONNREFUSED')),
      complete: () => {},
      release: () => {},
    };
    const orders: Orders = { runs: 0 };
    const url = await start([ordersRoute(orders, { store: down })], () => {});
    const answer = await post(url, '"down"', { item: 'book' });
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('1');
    expect(json(answer)).toMatchObject({ status: 503, code: 'ERR_IDEMPOTENCY_STORE' });
    expect(answer.bytes.toString()).not.toContain('ECONNREFUSED');
    expect(orders.runs).toBe(0);
  });

  it('keeps at most maxEntries records in memory (least recently used dropped)', async () => {
    const store = new MemoryIdempotencyStore({ maxEntries: 2 });
    const orders: Orders = { runs: 0 };
    const url = await start([ordersRoute(orders, { store })]);
    for (const key of ['"a"', '"b"', '"a"', '"c"']) await post(url, key, { item: 'book' });
    expect(store.size).toBe(2);
    expect(orders.runs).toBe(3);
    // "a" was used more recently than "b": "b" went, "a" still replays.
    expect((await post(url, '"a"', { item: 'book' })).headers.get('idempotent-replayed')).toBe(
      'true',
    );
    expect(
      (await post(url, '"b"', { item: 'book' })).headers.get('idempotent-replayed'),
    ).toBeNull();
    expect(store.size).toBe(2);
  });

  // The memory store's clock; Redis expires keys by its own (redis-store.test.ts checks the TTL).
  it('forgets a response after the retention time', async () => {
    const clock = new ManualClock();
    const orders: Orders = { runs: 0 };
    const url = await start([
      ordersRoute(orders, { store: new MemoryIdempotencyStore(), clock, retentionMs: 60_000 }),
    ]);
    await post(url, '"r"', { item: 'book' });
    clock.advance(59_999);
    expect((await post(url, '"r"', { item: 'book' })).headers.get('idempotent-replayed')).toBe(
      'true',
    );
    clock.advance(1);
    const later = await post(url, '"r"', { item: 'book' });
    expect(later.status).toBe(201);
    expect(later.headers.get('idempotent-replayed')).toBeNull();
    expect(json(later)).toMatchObject({ id: 2 });
  });
});

// The node adapter has no handler of its own kind: its routes return Replies already.
describe.each(adapters.filter((fixture) => fixture.name !== 'node'))(
  'Idempotency-Key and a native handler on $name',
  (fixture) => {
    let app: RunningApp | undefined;
    afterEach(async () => {
      await app?.close();
      app = undefined;
    });
    const start = async (routes: RouteSpec[], onError: (error: unknown) => void) => {
      app = await fixture.start(createToolkit({ onError }), routes);
      return app.url;
    };
    it('releases the key and reports a route whose handler writes the response itself', async () => {
      const onError = vi.fn();
      const orders: Orders = { runs: 0 };
      const url = await start(
        [ordersRoute(orders, { store: new MemoryIdempotencyStore() }, true)],
        onError,
      );
      expect((await post(url, '"n"', { item: 'book' })).status).toBe(201);
      await vi.waitFor(() => expect(onError).toHaveBeenCalled());
      expect(onError.mock.calls[0]?.[0]).toBeInstanceOf(ConfigurationError);
      expect((await post(url, '"n"', { item: 'book' })).status).toBe(201);
      expect(orders.runs).toBe(2);
    });
  },
);

describe('idempotency options', () => {
  const store = new MemoryIdempotencyStore();
  it.each([
    [{ store: {} }, /`store` must be an IdempotencyStore/],
    [{ store, retentionMs: 0 }, /retentionMs must be a positive integer/],
    [{ store, claimTimeoutMs: 1.5 }, /claimTimeoutMs must be a positive integer/],
    [{ store, maxBodyBytes: -1 }, /maxBodyBytes must be a positive integer/],
    [{ store, maxKeyLength: 5000 }, /maxKeyLength must be an integer from 1 to 4096/],
    [{ store, required: 'yes' }, /required must be true or false/],
    [{ store, scope: 'user' }, /scope must be a function/],
    [{ store, documentationUrl: '/docs' }, /documentationUrl/],
  ])('refuses %o at construction', (options, message) => {
    expect(() => idempotency(options as unknown as IdempotencyOptions)).toThrow(ConfigurationError);
    expect(() => idempotency(options as unknown as IdempotencyOptions)).toThrow(message);
  });

  it('names the option of a bad store', () => {
    expect(() => new MemoryIdempotencyStore({ maxEntries: 0 })).toThrow(/maxEntries/);
    expect(() => new RedisIdempotencyStore({ client: {} as Redis })).toThrow(/`client`/);
    expect(() => new RedisIdempotencyStore({ client, prefix: 'a{b' })).toThrow(/`prefix`/);
  });
});
