/**
 * The contract between the {@link idempotency} dependency and the place its records live.
 * Memory and Redis stores ship with this package; anything else (a database table) can
 * implement {@link IdempotencyStore}. Stores see opaque keys: the dependency hashes the
 * scope (principal or client) and the client's key into one, so no client text reaches
 * a store (draft-ietf-httpapi-idempotency-key-header, Security Considerations).
 */

/**
 * A response as the store keeps it, to be replayed for a retry.
 *
 * @example
 * ```ts
 * const stored: StoredResponse = { status: 201, headers: { location: '/orders/7' }, base64: 'eyJpZCI6N30=' };
 * ```
 */
export interface StoredResponse {
  /** The status code sent. */
  readonly status: number;
  /** The headers of the handler's reply, by lower-case name (`content-length` excluded). */
  readonly headers: Readonly<Record<string, string>>;
  /** A string body, replayed as a string. */
  readonly text?: string;
  /** A byte body (JSON is kept as its bytes), base64, replayed as bytes. */
  readonly base64?: string;
  /** The body was larger than `maxBodyBytes` and was not kept: retries get 409, never a second run. */
  readonly tooLarge?: true;
}

/**
 * What a store keeps under a key: the claim of the first request, then its response.
 *
 * @example
 * ```ts
 * const claim: IdempotencyRecord = { fingerprint, token: randomUUID() }; // the first request runs
 * const done: IdempotencyRecord = { ...claim, response: stored };        // what retries get
 * ```
 */
export interface IdempotencyRecord {
  /** Hash of the method, path and body of the request that claimed the key. */
  readonly fingerprint: string;
  /** Random id of the claim, so that a request only ever releases its own. */
  readonly token: string;
  /** The response, once the first request completed; absent while it still runs. */
  readonly response?: StoredResponse;
}

/**
 * Where idempotency records live. All times are milliseconds of the dependency's clock.
 * Each method may answer synchronously (memory) or with a promise (Redis); a store that
 * cannot answer throws or rejects, and the request gets a 503 problem.
 *
 * @example
 * ```ts
 * const store: IdempotencyStore = new MemoryIdempotencyStore({ maxEntries: 50_000 });
 * ```
 */
export interface IdempotencyStore {
  /**
   * Claims `key` for `record` for `ttlMs` when nothing holds it, in one atomic step (one
   * round trip); resolves to undefined when claimed, else to the record already there.
   */
  claim(
    key: string,
    record: IdempotencyRecord,
    ttlMs: number,
    now: number,
  ): IdempotencyRecord | undefined | Promise<IdempotencyRecord | undefined>;
  /** Replaces the claim with `record` (which carries the response), kept for `ttlMs`. */
  complete(
    key: string,
    record: IdempotencyRecord,
    ttlMs: number,
    now: number,
  ): void | Promise<void>;
  /** Forgets `key` if it still holds the claim of `record` (same token): a retry may run again. */
  release(key: string, record: IdempotencyRecord, now: number): void | Promise<void>;
}

/** Whether `value` has the three methods of an {@link IdempotencyStore}. */
export function isIdempotencyStore(value: unknown): value is IdempotencyStore {
  const store = value as Partial<IdempotencyStore> | null | undefined;
  return (
    typeof store?.claim === 'function' &&
    typeof store.complete === 'function' &&
    typeof store.release === 'function'
  );
}
