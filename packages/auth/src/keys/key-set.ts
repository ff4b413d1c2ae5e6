import { ConfigurationError, type SecurityEvent, securityEventChannel } from '@org/core';
import { keyMaterial } from '../internal/key-material.js';
import type { PublicJwk, SigningAlgorithm, SigningKey } from './signing-key.js';

/** A JSON Web Key Set document (RFC 7517 5). */
export interface JsonWebKeySet {
  /** The public half of every asymmetric key that verifies, signing key first (RFC 7517 section 5.1). */
  readonly keys: readonly PublicJwk[];
}

/** What changed in a {@link KeySet}. */
export interface KeySetChange {
  /**
   * `added`: a verification key joined. `rotated`: `kid` signs now and the previous
   * signing key is retired (it still verifies). `removed`: `kid` no longer verifies.
   */
  readonly type: 'added' | 'rotated' | 'removed';
  /** The key concerned. */
  readonly kid: string;
}

/** Options of {@link createKeySet}. */
export interface KeySetOptions {
  /** The key that signs new tokens; it must hold a private key or secret. Omit it for a verify-only set. */
  signingKey?: SigningKey;
  /** Further keys that only verify: retired keys, or other instances' public keys. @default [] */
  verificationKeys?: readonly SigningKey[];
}

/**
 * The keys of one issuer, each with a `kid`. One key signs; every key verifies
 * until it is removed. Keys change only through `rotate`, `add` and `remove`.
 */
export interface KeySet {
  /** The key that signs new tokens, or undefined for a verify-only set. */
  readonly signingKey: SigningKey | undefined;
  /** Every key that verifies: the signing key first, then the others, newest first. */
  readonly keys: readonly SigningKey[];
  /** The algorithms of the keys: the verifier's allow-list (RFC 8725 3.1), never the token's word. */
  readonly algorithms: readonly SigningAlgorithm[];
  /** The key with this `kid`, or undefined. Only this set is consulted, never a token header. */
  get(kid: string): SigningKey | undefined;
  /**
   * Makes `key` the signing key. The previous one is retired: it keeps verifying until
   * removed. Publishes `keys.rotated` on the `org:security` channel.
   */
  rotate(key: SigningKey): void;
  /** Adds a key that only verifies (a key published ahead of rotation, another instance's key). */
  add(key: SigningKey): void;
  /** Removes a key: tokens it signed stop verifying. The signing key cannot be removed. */
  remove(kid: string): void;
  /** The JWKS document: public members of asymmetric keys only, never a private key or a secret. */
  jwks(): JsonWebKeySet;
  /** Calls `listener` after every change; returns the function that unsubscribes. */
  onChange(listener: (change: KeySetChange) => void): () => void;
}

/** A runtime misuse of a {@link KeySet}. */
export class KeySetError extends Error {
  /** Stable codes: `ERR_KEY_EXISTS`, `ERR_KEY_NOT_FOUND`, `ERR_KEY_IN_USE`, `ERR_KEY_CANNOT_SIGN`. */
  readonly code: 'ERR_KEY_EXISTS' | 'ERR_KEY_NOT_FOUND' | 'ERR_KEY_IN_USE' | 'ERR_KEY_CANNOT_SIGN';
  constructor(code: KeySetError['code'], message: string) {
    super(message);
    this.name = 'KeySetError';
    this.code = code;
  }
}

/**
 * Creates a key set. Rotation: `rotate(newKey)` makes the new key sign while
 * tokens signed by the old one keep verifying; once they have expired (the
 * access-token lifetime), `remove(oldKid)`.
 *
 * @example
 * ```ts
 * const keySet = createKeySet({ signingKey: await generateSigningKey('ES256') });
 * keySet.rotate(await generateSigningKey('ES256'));   // new tokens use the new key
 * setTimeout(() => keySet.remove(oldKid), 15 * 60_000); // after the old tokens expired
 * ```
 */
export function createKeySet(options: KeySetOptions): KeySet {
  const byKid = new Map<string, SigningKey>();
  let signingKey = options.signingKey;
  const listeners = new Set<(change: KeySetChange) => void>();
  let keys: readonly SigningKey[] = [];
  let algorithms: readonly SigningAlgorithm[] = [];
  let jwks: JsonWebKeySet = { keys: [] };

  const admit = (key: SigningKey, fail: (message: string) => Error): void => {
    keyMaterial(key); // only keys made by this package
    if (byKid.has(key.kid)) throw fail(`A key with kid "${key.kid}" is already in the set.`);
    byKid.set(key.kid, key);
  };
  // Precomputed on every change, so reads on the request path allocate nothing.
  const recompute = (): void => {
    const others = [...byKid.values()].filter((key) => key !== signingKey).reverse();
    keys = Object.freeze(signingKey === undefined ? others : [signingKey, ...others]);
    algorithms = Object.freeze([...new Set(keys.map((key) => key.alg))]);
    const published = keys.flatMap((key) => (key.publicJwk === undefined ? [] : [key.publicJwk]));
    jwks = Object.freeze({ keys: Object.freeze(published) });
  };
  const emit = (change: KeySetChange): void => {
    recompute();
    for (const listener of listeners) listener(change);
  };

  if (signingKey !== undefined && !signingKey.canSign) {
    throw new ConfigurationError(
      `signingKey "${signingKey.kid}" holds no private key or secret; pass it in verificationKeys, or import the private key.`,
    );
  }
  const configError = (message: string) =>
    new ConfigurationError(
      `${message} Give every key in signingKey and verificationKeys its own kid.`,
    );
  for (const key of options.verificationKeys ?? []) admit(key, configError);
  if (signingKey !== undefined) admit(signingKey, configError);
  if (byKid.size === 0) {
    throw new ConfigurationError(
      'createKeySet needs a signingKey or verificationKeys; generate one with generateSigningKey().',
    );
  }
  recompute();

  return Object.freeze({
    get signingKey() {
      return signingKey;
    },
    get keys() {
      return keys;
    },
    get algorithms() {
      return algorithms;
    },
    get: (kid: string) => byKid.get(kid),
    rotate(key: SigningKey): void {
      if (!key.canSign) {
        throw new KeySetError(
          'ERR_KEY_CANNOT_SIGN',
          `Key "${key.kid}" holds no private key or secret.`,
        );
      }
      if (byKid.get(key.kid) !== key) admit(key, (m) => new KeySetError('ERR_KEY_EXISTS', m));
      const previous = signingKey;
      signingKey = key;
      emit({ type: 'rotated', kid: key.kid });
      if (securityEventChannel.hasSubscribers) {
        securityEventChannel.publish({
          event: 'keys.rotated',
          time: Date.now(),
          source: 'key_set',
          kid: key.kid,
          added_kids: [key.kid],
          retired_kids: previous === undefined || previous === key ? [] : [previous.kid],
        } satisfies SecurityEvent);
      }
    },
    add(key: SigningKey): void {
      admit(key, (message) => new KeySetError('ERR_KEY_EXISTS', message));
      emit({ type: 'added', kid: key.kid });
    },
    remove(kid: string): void {
      const key = byKid.get(kid);
      if (key === undefined)
        throw new KeySetError('ERR_KEY_NOT_FOUND', `No key with kid "${kid}".`);
      if (key === signingKey) {
        throw new KeySetError('ERR_KEY_IN_USE', `Key "${kid}" signs; rotate to another key first.`);
      }
      byKid.delete(kid);
      emit({ type: 'removed', kid });
    },
    jwks: () => jwks,
    onChange(listener: (change: KeySetChange) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  });
}
