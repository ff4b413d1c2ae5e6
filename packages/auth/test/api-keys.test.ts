import { DatabaseSync } from 'node:sqlite';
import { crc32 } from 'node:zlib';
import {
  ApiKeyError,
  type ApiKeyStore,
  createApiKeys,
  MemoryApiKeyStore,
  PostgresApiKeyStore,
  RedisApiKeyStore,
  SqliteApiKeyStore,
  type StoredApiKey,
} from '@org/auth';
import { ConfigurationError, NotFoundError, ServiceUnavailableError } from '@org/core';
import {
  type PostgresServer,
  type RedisServer,
  redisTopologies,
  startPostgres,
  startRedis,
} from '@org/test-support';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { checksum, hashSecret, parseKey, sameHash } from '../src/api-keys/key-format.js';
import { manualClock } from './helpers.js';

const KEY = /^org_[0-9A-Za-z]{16}_[0-9A-Za-z]{36}[0-9A-Za-z]{6}$/;
/** RFC 6750 section 2.1 b64token. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const MINUTE = 60_000;

/** A store that counts calls, around a memory store. */
function spyStore(inner: ApiKeyStore = new MemoryApiKeyStore()) {
  const calls = { get: 0, touch: [] as Map<string, number>[] };
  const store: ApiKeyStore = {
    insert: (key) => inner.insert(key),
    get: (id) => {
      calls.get++;
      return inner.get(id);
    },
    listByOwner: (owner) => inner.listByOwner(owner),
    revoke: (id, at) => inner.revoke(id, at),
    expire: (id, at) => inner.expire(id, at),
    touch: (lastUsed) => {
      calls.touch.push(new Map(lastUsed));
      return inner.touch(lastUsed);
    },
  };
  return { store, calls };
}

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { code: string }).code;
  }
  return 'resolved';
}

describe('API key format', () => {
  it('is prefix, id, 214-bit secret and a CRC32, all in the b64token charset', async () => {
    const apiKeys = createApiKeys({ store: new MemoryApiKeyStore() });
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const { key, record } = await apiKeys.create({ owner: 'u1', name: `k${i}` });
      expect(key).toMatch(KEY);
      expect(key).toMatch(B64TOKEN);
      expect(key.slice(4, 20)).toBe(record.id);
      const body = key.slice(0, -6);
      expect(key.slice(-6)).toBe(checksum(body));
      // The checksum is CRC32 in base62, 6 characters.
      expect(Number.parseInt(String(crc32(body)), 10)).toBeLessThan(2 ** 32);
      seen.add(key.slice(21, 57));
    }
    expect(seen.size).toBe(50);
  });

  it('refuses a typo, a truncation and another prefix without touching the store', async () => {
    const { store, calls } = spyStore();
    const apiKeys = createApiKeys({ store });
    const { key } = await apiKeys.create({ owner: 'u1', name: 'ci' });
    const typo = `${key.slice(0, 30)}${key[30] === 'a' ? 'b' : 'a'}${key.slice(31)}`;
    for (const bad of [
      typo,
      key.slice(0, -1),
      `${key}x`,
      `abc${key.slice(3)}`,
      '',
      'org_',
      'eyJhbGciOiJFUzI1NiJ9.e30.sig',
    ]) {
      expect(await code(apiKeys.verify(bad))).toBe('ERR_API_KEY_MALFORMED');
    }
    expect(calls.get).toBe(0);
    expect(parseKey('org', typo)).toBeUndefined();
    expect(parseKey('org', key)).toMatchObject({ id: key.slice(4, 20) });
  });

  it('accepts a configured prefix only, and refuses bad prefixes at start-up', async () => {
    const acme = createApiKeys({ store: new MemoryApiKeyStore(), prefix: 'acme' });
    const { key } = await acme.create({ owner: 'u1', name: 'x' });
    expect(key.startsWith('acme_')).toBe(true);
    expect(acme.isApiKey(key)).toBe(true);
    expect(acme.isApiKey('eyJhbGciOiJFUzI1NiJ9.e30.sig')).toBe(false);
    const org = createApiKeys({ store: new MemoryApiKeyStore() });
    expect(await code(org.verify(key))).toBe('ERR_API_KEY_MALFORMED');
    for (const prefix of ['A', 'Org', 'o', 'a_b', 'x{y}', '1abc']) {
      expect(() => createApiKeys({ store: new MemoryApiKeyStore(), prefix })).toThrow(
        ConfigurationError,
      );
    }
    expect(() => createApiKeys({ store: new MemoryApiKeyStore(), pepper: 'short' })).toThrow(
      ConfigurationError,
    );
  });

  it('stores only a SHA-256 hash (HMAC with a pepper), compared in constant time', async () => {
    const store = new MemoryApiKeyStore();
    const { key, record } = await createApiKeys({ store }).create({ owner: 'u1', name: 'x' });
    const stored = (await store.get(record.id)) as StoredApiKey;
    const secret = key.slice(21, 57);
    expect(stored.hash).toBe(hashSecret(record.id, secret, undefined));
    expect(stored.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(record).not.toHaveProperty('hash');

    const pepper = 'p'.repeat(32);
    const peppered = new MemoryApiKeyStore();
    const withPepper = createApiKeys({ store: peppered, pepper });
    const created = await withPepper.create({ owner: 'u1', name: 'x' });
    const hash = ((await peppered.get(created.record.id)) as StoredApiKey).hash;
    expect(hash).toBe(
      hashSecret(created.record.id, created.key.slice(21, 57), Buffer.from(pepper)),
    );
    await expect(withPepper.verify(created.key)).resolves.toMatchObject({ id: created.record.id });
    // Another pepper: the same key no longer verifies.
    const other = createApiKeys({ store: peppered, pepper: 'q'.repeat(32) });
    expect(await code(other.verify(created.key))).toBe('ERR_API_KEY_INVALID');

    expect(sameHash(hash, hash)).toBe(true);
    expect(sameHash(hash, hash.replace(/^./, hash[0] === 'a' ? 'b' : 'a'))).toBe(false);
    expect(sameHash(hash, 'abcd')).toBe(false);
  });

  it('refuses a well-formed key whose secret does not match, with the same answer as an unknown id', async () => {
    const store = new MemoryApiKeyStore();
    const apiKeys = createApiKeys({ store });
    const { record } = await apiKeys.create({ owner: 'u1', name: 'x' });
    const forgedBody = `org_${record.id}_${'A'.repeat(36)}`;
    expect(await code(apiKeys.verify(forgedBody + checksum(forgedBody)))).toBe(
      'ERR_API_KEY_INVALID',
    );
    const unknownBody = `org_${'B'.repeat(16)}_${'A'.repeat(36)}`;
    expect(await code(apiKeys.verify(unknownBody + checksum(unknownBody)))).toBe(
      'ERR_API_KEY_INVALID',
    );
  });
});

describe('createApiKeys', () => {
  it('rejects with a 401 problem carrying the invalid_token challenge and never the key', async () => {
    const error = new ApiKeyError('ERR_API_KEY_REVOKED');
    expect(error.status).toBe(401);
    expect(error.code).toBe('ERR_API_KEY_REVOKED');
    expect(error.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="invalid_token", error_description="The API key was revoked."',
    );
  });

  it('turns a failing store into a 503 that shows nothing of it', async () => {
    const store = new MemoryApiKeyStore();
    const apiKeys = createApiKeys({ store });
    const { key } = await apiKeys.create({ owner: 'u1', name: 'x' });
    vi.spyOn(store, 'get').mockRejectedValueOnce(new Error('ECONNREFUSED redis:6379'));
    await expect(apiKeys.verify(key)).rejects.toBeInstanceOf(ServiceUnavailableError);
  });

  it('validates create input', async () => {
    const apiKeys = createApiKeys({ store: new MemoryApiKeyStore() });
    await expect(async () => apiKeys.create({ owner: '', name: 'x' })).rejects.toMatchObject({
      status: 400,
    });
    await expect(async () => apiKeys.create({ owner: 'u', name: '' })).rejects.toMatchObject({
      status: 400,
    });
    await expect(async () =>
      apiKeys.create({ owner: 'u', name: 'x', scopes: ['a b'] }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(async () =>
      apiKeys.create({ owner: 'u', name: 'x', expiresIn: -1 }),
    ).rejects.toMatchObject({ status: 400 });
  });

  it('bounds the memory store without ever evicting a live key', async () => {
    const clock = manualClock();
    const store = new MemoryApiKeyStore({ maxKeys: 2 });
    const apiKeys = createApiKeys({ store, clock });
    const first = await apiKeys.create({ owner: 'u1', name: 'a' });
    await apiKeys.create({ owner: 'u1', name: 'b' });
    await expect(apiKeys.create({ owner: 'u1', name: 'c' })).rejects.toMatchObject({
      status: 503,
      code: 'ERR_API_KEY_STORE_FULL',
    });
    await apiKeys.revoke(first.record.id);
    await apiKeys.create({ owner: 'u1', name: 'c' });
    expect(store.size).toBe(2);
    expect((await apiKeys.list('u1')).map((k) => k.name)).toEqual(['b', 'c']);
  });
});

describe('lastUsedAt', () => {
  it('writes at most once per key per minute, batched, off the request path', async () => {
    const clock = manualClock();
    const { store, calls } = spyStore();
    const apiKeys = createApiKeys({ store, clock });
    const a = await apiKeys.create({ owner: 'u1', name: 'a' });
    const b = await apiKeys.create({ owner: 'u1', name: 'b' });
    const t0 = clock.now();

    // Ten requests in one turn: verify never waits for a write.
    for (let i = 0; i < 5; i++) {
      await apiKeys.verify(a.key);
      await apiKeys.verify(b.key);
    }
    expect(calls.touch).toHaveLength(0);
    await apiKeys.flush();
    expect(calls.touch).toEqual([
      new Map([
        [a.record.id, t0],
        [b.record.id, t0],
      ]),
    ]);
    expect((await apiKeys.list('u1')).map((k) => k.lastUsedAt)).toEqual([t0, t0]);

    clock.advance(MINUTE - 1);
    await apiKeys.verify(a.key);
    await apiKeys.flush();
    expect(calls.touch).toHaveLength(1);

    clock.advance(1);
    await apiKeys.verify(a.key);
    await apiKeys.verify(a.key);
    await apiKeys.flush();
    expect(calls.touch).toHaveLength(2);
    expect(calls.touch[1]).toEqual(new Map([[a.record.id, t0 + MINUTE]]));
    expect((await apiKeys.get(a.record.id))?.lastUsedAt).toBe(t0 + MINUTE);
  });

  it('skips a write another instance made within the interval, and reports failed writes', async () => {
    const clock = manualClock();
    const store = new MemoryApiKeyStore();
    const onError = vi.fn();
    const one = createApiKeys({ store, clock, onError });
    const two = createApiKeys({ store, clock, onError });
    const { key, record } = await one.create({ owner: 'u1', name: 'a' });
    await one.verify(key);
    await one.flush();
    const touch = vi.spyOn(store, 'touch');
    clock.advance(10_000);
    await two.verify(key);
    await two.flush();
    expect(touch).not.toHaveBeenCalled();

    clock.advance(MINUTE);
    touch.mockRejectedValueOnce(new Error('disk full'));
    await expect(two.verify(key)).resolves.toMatchObject({ id: record.id });
    await two.flush();
    expect(onError).toHaveBeenCalledTimes(1);
  });
});

let redis: RedisServer;
let client: Redis;
let postgres: PostgresServer;
let pool: Pool;
const databases: DatabaseSync[] = [];

beforeAll(async () => {
  [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
  client = new Redis(redis.url, { maxRetriesPerRequest: 1, commandTimeout: 1000 });
  client.on('error', () => {});
  pool = new Pool({ connectionString: postgres.url, connectionTimeoutMillis: 2000 });
});
afterAll(async () => {
  client?.disconnect();
  await pool?.end();
  await Promise.all([redis?.stop(), postgres?.stop()]);
  for (const database of databases) database.close();
});

/** The single server above, and the same suites through a Cluster and through Sentinel. */
const topologies = redisTopologies(['cluster', 'sentinel']);

let storeCount = 0;
const stores: { name: string; make: () => ApiKeyStore | Promise<ApiKeyStore> }[] = [
  { name: 'memory', make: () => new MemoryApiKeyStore() },
  {
    name: 'node:sqlite',
    make: () => {
      const database = new DatabaseSync(':memory:');
      databases.push(database);
      return new SqliteApiKeyStore({ database });
    },
  },
  { name: 'redis', make: () => new RedisApiKeyStore({ client, prefix: `t${++storeCount}:` }) },
  ...topologies.map((topology) => ({
    name: `${topology.name} Redis`,
    make: () => new RedisApiKeyStore({ client: topology.client, prefix: `t${++storeCount}:` }),
  })),
  {
    name: 'postgres',
    make: async () => {
      const store = new PostgresApiKeyStore({ client: pool, table: `keys${++storeCount}` });
      await store.createTables();
      return store;
    },
  },
];

describe.each(stores)('store suite on $name', ({ make }) => {
  it('creates, lists without secrets, verifies and revokes at once for every manager sharing it', async () => {
    const clock = manualClock();
    const store = await make();
    const one = createApiKeys({ store, clock });
    const two = createApiKeys({ store, clock });
    const { key, record } = await one.create({
      owner: 'u1',
      name: 'CI deploy',
      scopes: ['deploy', 'read'],
      roles: ['user'],
      expiresIn: 3600,
    });
    expect(record).toEqual({
      id: record.id,
      name: 'CI deploy',
      owner: 'u1',
      scopes: ['deploy', 'read'],
      roles: ['user'],
      createdAt: clock.now(),
      expiresAt: clock.now() + 3_600_000,
    });
    await one.create({ owner: 'u2', name: 'other' });
    await expect(two.verify(key)).resolves.toEqual(record);
    await two.flush();
    const listed = await two.list('u1');
    expect(listed).toEqual([{ ...record, lastUsedAt: clock.now() }]);
    expect(JSON.stringify(listed)).not.toContain(key.slice(21, 57));
    expect(JSON.stringify(listed)).not.toMatch(/hash/);

    expect(await one.revoke(record.id)).toBe(true);
    expect(await one.revoke('nope')).toBe(false);
    expect(await code(two.verify(key))).toBe('ERR_API_KEY_REVOKED');
    expect(await code(one.verify(key))).toBe('ERR_API_KEY_REVOKED');
    expect((await two.list('u1'))[0]?.revokedAt).toBe(clock.now());
  });

  it('expires keys and rotates with an overlap', async () => {
    const clock = manualClock();
    const apiKeys = createApiKeys({ store: await make(), clock });
    const { key, record } = await apiKeys.create({
      owner: 'u1',
      name: 'a',
      scopes: ['x'],
      expiresIn: 600,
    });
    const rotated = await apiKeys.rotate(record.id, { overlapSeconds: 60 });
    expect(rotated.record).toMatchObject({
      owner: 'u1',
      name: 'a',
      scopes: ['x'],
      expiresAt: clock.now() + 600_000,
    });
    expect(rotated.key).not.toBe(key);
    clock.advance(59_999);
    await expect(apiKeys.verify(key)).resolves.toMatchObject({ id: record.id });
    clock.advance(1);
    expect(await code(apiKeys.verify(key))).toBe('ERR_API_KEY_EXPIRED');
    await expect(apiKeys.verify(rotated.key)).resolves.toMatchObject({ id: rotated.record.id });
    clock.advance(540_000);
    expect(await code(apiKeys.verify(rotated.key))).toBe('ERR_API_KEY_EXPIRED');
    await expect(apiKeys.rotate('missing')).rejects.toBeInstanceOf(NotFoundError);

    // Without an overlap the old key stops at once; the new one has no expiry like the old.
    const forever = await apiKeys.create({ owner: 'u1', name: 'b' });
    const next = await apiKeys.rotate(forever.record.id);
    expect(await code(apiKeys.verify(forever.key))).toBe('ERR_API_KEY_EXPIRED');
    expect(next.record.expiresAt).toBeUndefined();
    await apiKeys.revoke(next.record.id);
    await expect(apiKeys.rotate(next.record.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('keeps the latest lastUsedAt and ignores unknown ids', async () => {
    const store = await make();
    const apiKeys = createApiKeys({ store, clock: manualClock(1000) });
    const { record } = await apiKeys.create({ owner: 'u1', name: 'a' });
    await store.touch(
      new Map([
        [record.id, 5000],
        ['unknown', 1],
      ]),
    );
    await store.touch(new Map([[record.id, 4000]]));
    expect((await store.get(record.id))?.lastUsedAt).toBe(5000);
    expect(await store.get('unknown')).toBeUndefined();
  });
});

describe.each([
  { name: 'single', redis: () => client, keys: (pattern: string) => client.keys(pattern) },
  ...topologies.map((topology) => ({
    name: topology.name,
    redis: () => topology.client,
    keys: (pattern: string) => topology.keys(pattern),
  })),
])('RedisApiKeyStore on $name Redis', ({ redis: connect, keys }) => {
  it('keeps one hash-tagged key per API key and one per owner, never the secret', async () => {
    const client = connect();
    const store = new RedisApiKeyStore({ client, prefix: 'layout:' });
    const { key, record } = await createApiKeys({ store }).create({ owner: 'u9', name: 'a' });
    expect((await keys('layout:*')).sort()).toEqual([`layout:k:{${record.id}}`, 'layout:o:{u9}']);
    expect(JSON.stringify(await client.hgetall(`layout:k:{${record.id}}`))).not.toContain(
      key.slice(21, 57),
    );
    expect(() => new RedisApiKeyStore({ client, prefix: 'a{b}' })).toThrow(ConfigurationError);
  });
});
