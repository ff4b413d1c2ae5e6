/**
 * An API key as its owner may see it: never the secret, never its hash. Times are milliseconds since the epoch.
 *
 * @example
 * ```ts
 * const records: ApiKeyRecord[] = await apiKeys.list(user.id);
 * const active = records.filter((k) => k.revokedAt === undefined);
 * ```
 */
export interface ApiKeyRecord {
  /** The key's public id, the part after the prefix; what `revoke` and `rotate` take. */
  readonly id: string;
  /** A label its owner chose ("CI deploy"). */
  readonly name: string;
  /** The id of the user the key acts as. */
  readonly owner: string;
  /** OAuth2 scopes the key grants (RFC 6749 section 3.3). */
  readonly scopes: readonly string[];
  /**
   * Roles the key is limited to, within its owner's; absent: the key has its owner's
   * roles.
   */
  readonly roles?: readonly string[];
  /** When it was created. */
  readonly createdAt: number;
  /** When it stops working; absent: never. */
  readonly expiresAt?: number;
  /** When it was last accepted, to within the manager's `lastUsedInterval`; absent: never used. */
  readonly lastUsedAt?: number;
  /** When it was revoked; absent: not revoked. */
  readonly revokedAt?: number;
}

/**
 * What an {@link ApiKeyStore} keeps: the record and the hash of the secret.
 *
 * @example
 * ```ts
 * const stored: StoredApiKey | undefined = await store.get(id); // stored.hash is hex SHA-256
 * ```
 */
export interface StoredApiKey extends ApiKeyRecord {
  /** Hex SHA-256 (or HMAC-SHA-256 with the pepper) of the key's id and secret. */
  readonly hash: string;
}

/**
 * Where API keys live. Every method may reject (a database or Redis down); the
 * manager turns that into a 503. A store keeps no cache: what one instance writes,
 * every instance sharing the store reads at once, so a revoked key fails everywhere.
 *
 * @example
 * ```ts
 * const apiKeys = createApiKeys({ store: new SqliteApiKeyStore({ database: new DatabaseSync('app.db') }) });
 * ```
 */
export interface ApiKeyStore {
  /** Adds a new key. Its id is new (128-bit random ids do not collide). */
  insert(key: StoredApiKey): Promise<void>;
  /** The key with this id, or undefined. */
  get(id: string): Promise<StoredApiKey | undefined>;
  /** Every key of an owner, revoked and expired ones included, in creation order. */
  listByOwner(owner: string): Promise<StoredApiKey[]>;
  /** Marks a key revoked at `at` unless it already is; false when there is no such key. */
  revoke(id: string, at: number): Promise<boolean>;
  /** Moves a key's expiry to `at` unless it already ends sooner; false when there is no such key. */
  expire(id: string, at: number): Promise<boolean>;
  /** Sets `lastUsedAt` of each key to the time given unless it already holds a later one. Unknown ids are skipped. */
  touch(lastUsed: ReadonlyMap<string, number>): Promise<void>;
}
