import {
  BadRequestError,
  type Clock,
  ConfigurationError,
  NotFoundError,
  type SecurityEvent,
  securityEventChannel,
  systemClock,
} from '@org/core';
import { getCurrentContext, positiveInteger } from '@org/core/adapter';
import { failClosed } from '../internal/fail-closed.js';
import { ApiKeyError } from './api-key-error.js';
import { generateKey, hashSecret, PREFIX, parseKey, sameHash } from './key-format.js';
import { createLastUsedRecorder } from './last-used.js';
import type { ApiKeyRecord, ApiKeyStore, StoredApiKey } from './types.js';

/**
 * Options of {@link createApiKeys}.
 *
 * @example
 * ```ts
 * const options: ApiKeysOptions = { store: new MemoryApiKeyStore(), prefix: 'acme', lastUsedInterval: 300_000 };
 * ```
 */
export interface ApiKeysOptions {
  /** Where keys live: {@link MemoryApiKeyStore}, {@link SqliteApiKeyStore} or {@link RedisApiKeyStore}. */
  store: ApiKeyStore;
  /**
   * The recognizable start of every key (`org_...`), for secret scanners and to tell a
   * key from a JWT in the same header: 2 to 20 lowercase letters or digits, starting with a letter.
   * @default 'org'
   */
  prefix?: string;
  /**
   * A server-side secret (at least 32 bytes): the stored hashes become HMAC-SHA-256
   * under it, so a leaked database alone cannot be checked against guesses. Changing it
   * invalidates every key. Keep it out of the database.
   * @default undefined (plain SHA-256; the 214-bit secret already defeats guessing)
   */
  pepper?: string | Uint8Array;
  /** Source of the current time. @default systemClock */
  clock?: Clock;
  /**
   * At most one `lastUsedAt` write per key per this many milliseconds. Writes are
   * batched and run in the background, never on the request path.
   * @default 60000
   */
  lastUsedInterval?: number;
  /** Called with a failed background `lastUsedAt` write (the key was still accepted). @default ignore it */
  onError?: (error: unknown) => void;
  /** Realm of the 401 challenges. @default 'api' */
  realm?: string;
}

/**
 * What {@link ApiKeys.create} takes.
 *
 * @example
 * ```ts
 * await apiKeys.create({ owner: 'u1', name: 'CI', scopes: ['deploy'], roles: ['user'], expiresIn: 86_400 });
 * ```
 */
export interface CreateApiKeyInput {
  /** The id of the user the key acts as. */
  owner: string;
  /** A label for its owner, 1 to 200 characters. */
  name: string;
  /** OAuth2 scopes the key grants. @default [] */
  scopes?: readonly string[];
  /** Roles the key grants, within its owner's current roles. @default [] (none: least privilege) */
  roles?: readonly string[];
  /** Lifetime in seconds. @default undefined (no expiry) */
  expiresIn?: number;
}

/**
 * What {@link ApiKeys.rotate} takes.
 *
 * @example
 * ```ts
 * const { key } = await apiKeys.rotate(id, { overlapSeconds: 3600 }); // the old key works one more hour
 * ```
 */
export interface RotateApiKeyOptions {
  /** Seconds the old key stays valid, so deployments can switch over. @default 0 (it stops at once) */
  overlapSeconds?: number;
  /** Lifetime of the new key in seconds. @default the old key's lifetime, or none if it had none */
  expiresIn?: number;
}

/**
 * A key just created: the only time its plaintext exists outside its holder.
 *
 * @example
 * ```ts
 * const { key, record }: CreatedApiKey = await apiKeys.create({ owner: 'u1', name: 'CI' });
 * return { status: 201, body: { ...record, key } }; // shown once
 * ```
 */
export interface CreatedApiKey {
  /** The key to hand to its holder, once. It is not stored and cannot be shown again. */
  readonly key: string;
  /** Its record. */
  readonly record: ApiKeyRecord;
}

/**
 * What {@link createApiKeys} returns.
 *
 * @example
 * ```ts
 * const apiKeys: ApiKeys = createApiKeys({ store });
 * if (apiKeys.isApiKey(credential)) await apiKeys.verify(credential);
 * ```
 */
export interface ApiKeys {
  /** The prefix every key starts with, followed by `_`. */
  readonly prefix: string;
  /** Whether `value` looks like one of these keys (its prefix); says nothing about validity. */
  isApiKey(value: string): boolean;
  /** Creates a key; the plaintext is in the result and nowhere else. */
  create(input: CreateApiKeyInput): Promise<CreatedApiKey>;
  /** An owner's keys, revoked and expired ones included; never a secret or a hash. */
  list(owner: string): Promise<ApiKeyRecord[]>;
  /** One key's record by id, or undefined; for ownership checks before `revoke`. */
  get(id: string): Promise<ApiKeyRecord | undefined>;
  /** Revokes a key at once on every instance sharing the store; false when there is no such key. */
  revoke(id: string): Promise<boolean>;
  /** A new key with the same owner, name, scopes and roles; the old one expires after the overlap. 404 for an unknown or revoked id. */
  rotate(id: string, options?: RotateApiKeyOptions): Promise<CreatedApiKey>;
  /** The record of a valid key; rejects with an {@link ApiKeyError} (401) or a 503 when the store is down. */
  verify(key: string): Promise<ApiKeyRecord>;
  /** Writes the pending `lastUsedAt` times now; for shutdown and tests. */
  flush(): Promise<void>;
}

/** RFC 6749 section 3.3 scope-token. */
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

function publicRecord({ hash: _hash, ...record }: StoredApiKey): ApiKeyRecord {
  return record;
}

function badInput(detail: string): BadRequestError {
  return new BadRequestError({ code: 'ERR_API_KEY_INPUT', detail });
}

function checkNames(option: string, values: unknown, pattern: RegExp): readonly string[] {
  if (!Array.isArray(values) || values.some((v) => typeof v !== 'string' || !pattern.test(v))) {
    throw badInput(`${option} must be an array of valid names.`);
  }
  return Object.freeze([...new Set(values as string[])]);
}

function seconds(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw badInput(`${option} must be a whole number of seconds above zero.`);
  }
  return value;
}

function checkPepper(pepper: string | Uint8Array | undefined): Buffer | undefined {
  if (pepper === undefined) return undefined;
  const bytes = typeof pepper === 'string' ? Buffer.from(pepper) : Buffer.from(pepper);
  if (bytes.length < 32) {
    throw new ConfigurationError(
      'createApiKeys: pepper must be at least 32 bytes (for example 32 random bytes, base64-encoded, from a secret manager).',
    );
  }
  return bytes;
}

/**
 * Creates the API key manager: keys `<prefix>_<id>_<secret><checksum>` shown once,
 * stored as a SHA-256 (or peppered HMAC) hash, looked up by id and compared in
 * constant time. Nothing valid is cached, so a revoked key fails at once on every
 * instance that shares the store.
 *
 * @example
 * ```ts
 * const apiKeys = createApiKeys({ store: new RedisApiKeyStore({ client: redis }), prefix: 'acme' });
 * const { key, record } = await apiKeys.create({ owner: user.id, name: 'CI', scopes: ['deploy'] });
 * // show `key` once; later, on a request:
 * const verified = await apiKeys.verify(key); // the record, or a 401 ApiKeyError
 * ```
 */
export function createApiKeys(options: ApiKeysOptions): ApiKeys {
  const store = options?.store;
  if (typeof store?.get !== 'function' || typeof store.insert !== 'function') {
    throw new ConfigurationError(
      'createApiKeys needs options.store: a MemoryApiKeyStore, SqliteApiKeyStore, PostgresApiKeyStore or RedisApiKeyStore.',
    );
  }
  const prefix = options.prefix ?? 'org';
  if (!PREFIX.test(prefix)) {
    throw new ConfigurationError(
      `createApiKeys: prefix must be 2 to 20 lowercase letters or digits starting with a letter; received ${JSON.stringify(prefix)}.`,
    );
  }
  const pepper = checkPepper(options.pepper);
  const clock = options.clock ?? systemClock;
  const realm = options.realm ?? 'api';
  const interval = positiveInteger(
    'createApiKeys',
    'lastUsedInterval',
    options.lastUsedInterval,
    60_000,
  );
  const lastUsed = createLastUsedRecorder(store, interval, options.onError ?? (() => {}));
  const start = `${prefix}_`;

  const guarded = failClosed(
    'ERR_API_KEY_STORE_UNAVAILABLE',
    'API keys are unavailable right now; try again shortly.',
  );

  /** Security events name the key by id and owner, never by the key; the request comes from the current context. */
  const publish = (
    event: 'api_key.created' | 'api_key.revoked' | 'api_key.used_after_revocation',
    record: { readonly id: string; readonly owner: string },
  ): void => {
    const ctx = getCurrentContext();
    securityEventChannel.publish({
      event,
      time: clock.now(),
      request_id: ctx?.requestId,
      client_ip: ctx?.clientIp,
      key_id: record.id,
      owner: record.owner,
    } satisfies SecurityEvent);
  };

  const insert = async (
    fields: Omit<StoredApiKey, 'id' | 'hash' | 'createdAt'>,
    now: number,
  ): Promise<CreatedApiKey> => {
    const { key, id, secret } = generateKey(prefix);
    const stored: StoredApiKey = {
      ...fields,
      id,
      hash: hashSecret(id, secret, pepper),
      createdAt: now,
    };
    await guarded(() => store.insert(stored));
    if (securityEventChannel.hasSubscribers) publish('api_key.created', stored);
    return { key, record: publicRecord(stored) };
  };

  return Object.freeze({
    prefix,
    isApiKey: (value: string) => typeof value === 'string' && value.startsWith(start),

    create(input: CreateApiKeyInput): Promise<CreatedApiKey> {
      const { owner, name } = input ?? {};
      if (typeof owner !== 'string' || owner === '')
        throw badInput('owner must be a non-empty string.');
      if (typeof name !== 'string' || name.trim() === '' || name.length > 200) {
        throw badInput('name must be 1 to 200 characters.');
      }
      const scopes = checkNames('scopes', input.scopes ?? [], SCOPE);
      const roles =
        input.roles === undefined ? undefined : checkNames('roles', input.roles, /^\S+$/);
      const now = clock.now();
      const expiresAt =
        input.expiresIn === undefined
          ? undefined
          : now + seconds('expiresIn', input.expiresIn) * 1000;
      return insert(
        {
          name,
          owner,
          scopes,
          ...(roles === undefined ? {} : { roles }),
          ...(expiresAt === undefined ? {} : { expiresAt }),
        },
        now,
      );
    },

    list: (owner: string) =>
      guarded(async () => (await store.listByOwner(owner)).map(publicRecord)),

    get: (id: string) =>
      guarded(async () => {
        const found = await store.get(id);
        return found === undefined ? undefined : publicRecord(found);
      }),

    async revoke(id: string): Promise<boolean> {
      const revoked = await guarded(() => store.revoke(id, clock.now()));
      if (revoked && securityEventChannel.hasSubscribers) {
        const record = await guarded(() => store.get(id));
        if (record !== undefined) publish('api_key.revoked', record);
      }
      return revoked;
    },

    async rotate(id: string, rotation: RotateApiKeyOptions = {}): Promise<CreatedApiKey> {
      const overlap =
        rotation.overlapSeconds === undefined || rotation.overlapSeconds === 0
          ? 0
          : seconds('overlapSeconds', rotation.overlapSeconds);
      const old = await guarded(() => store.get(id));
      if (old === undefined || old.revokedAt !== undefined) {
        throw new NotFoundError({ detail: 'There is no such API key.' });
      }
      const now = clock.now();
      const lifetime =
        rotation.expiresIn !== undefined
          ? seconds('expiresIn', rotation.expiresIn) * 1000
          : old.expiresAt === undefined
            ? undefined
            : old.expiresAt - old.createdAt;
      const created = await insert(
        {
          name: old.name,
          owner: old.owner,
          scopes: old.scopes,
          ...(old.roles === undefined ? {} : { roles: old.roles }),
          ...(lifetime === undefined ? {} : { expiresAt: now + lifetime }),
        },
        now,
      );
      await guarded(() => store.expire(id, now + overlap * 1000));
      return created;
    },

    async verify(key: string): Promise<ApiKeyRecord> {
      // Shape and CRC32 first: a typo or a random string never reaches the store.
      const parts = typeof key === 'string' ? parseKey(prefix, key) : undefined;
      if (parts === undefined) throw new ApiKeyError('ERR_API_KEY_MALFORMED', { realm });
      const found = await guarded(() => store.get(parts.id));
      const hash = hashSecret(parts.id, parts.secret, pepper);
      if (found === undefined || !sameHash(hash, found.hash)) {
        throw new ApiKeyError('ERR_API_KEY_INVALID', { realm });
      }
      // Only a holder of the right secret learns that the key was revoked or expired.
      if (found.revokedAt !== undefined) {
        if (securityEventChannel.hasSubscribers) publish('api_key.used_after_revocation', found);
        throw new ApiKeyError('ERR_API_KEY_REVOKED', { realm });
      }
      const now = clock.now();
      if (found.expiresAt !== undefined && now >= found.expiresAt) {
        throw new ApiKeyError('ERR_API_KEY_EXPIRED', { realm });
      }
      lastUsed.record(found.id, found.lastUsedAt, now);
      return publicRecord(found);
    },

    flush: () => lastUsed.flush(),
  } satisfies ApiKeys);
}
