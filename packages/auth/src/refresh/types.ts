/**
 * The contract between the refresh-token manager and its stores. The manager makes
 * the tokens, hashes them and reads the clock; a store only keeps hashes and times
 * and must make {@link RefreshTokenStore.rotate} atomic. Implement it to keep
 * refresh-token families somewhere else (a SQL table with `SELECT ... FOR UPDATE`).
 */

/** A new family, written by {@link RefreshTokenStore.create} (every time is milliseconds since the epoch). */
export interface NewRefreshTokenFamily {
  /** Random family id, also the first part of each of its tokens. */
  readonly familyId: string;
  /** The user the family belongs to. */
  readonly userId: string;
  /** SHA-256 (base64url) of the family's first token. */
  readonly tokenHash: string;
  /** When the first token expires unless rotated. */
  readonly expiresAt: number;
  /** When the family ends, however often it is rotated (absolute lifetime). */
  readonly familyExpiresAt: number;
  /** The manager's clock at creation; stores derive TTLs from it, never from their own clock. */
  readonly now: number;
}

/** A rotation request, passed to {@link RefreshTokenStore.rotate}. */
export interface RotationRequest {
  /** The family named by the presented token. */
  readonly familyId: string;
  /** SHA-256 of the presented token. */
  readonly tokenHash: string;
  /** SHA-256 of the token that replaces it. */
  readonly nextTokenHash: string;
  /** The manager's clock. */
  readonly now: number;
  /** Lifetime of the next token in milliseconds, capped by the family's end. */
  readonly tokenLifetimeMs: number;
}

/**
 * What a rotation found:
 * - `rotated`: the presented token was the current one; it is now spent and the
 *   next token is current.
 * - `reused`: the presented token was already spent; the family has been revoked
 *   (RFC 9700 section 4.14.2).
 * - `expired`: the token or its family is past its end; the family has been removed.
 * - `invalid`: no such family, or a token that never belonged to it.
 */
export type RotationResult =
  | {
      /** The presented token was current; the next token replaces it. */
      readonly status: 'rotated';
      /** The user the family belongs to. */
      readonly userId: string;
      /** When the next token expires unless rotated, in milliseconds since the epoch (capped by `familyExpiresAt`). */
      readonly expiresAt: number;
      /** When the family ends, in milliseconds since the epoch, unchanged by rotation. */
      readonly familyExpiresAt: number;
    }
  | {
      /** The presented token was already spent; the family has been revoked. */
      readonly status: 'reused';
      /** The user whose family was revoked, for the security log. */
      readonly userId: string;
    }
  | {
      /** The token or its family is past its end; the family has been removed. */
      readonly status: 'expired';
      /** The user the family belonged to. */
      readonly userId: string;
    }
  | {
      /** No such family, or a token that never belonged to it. */
      readonly status: 'invalid';
    };

/**
 * Where refresh-token families live. Every method may reject when the store cannot
 * be reached; the manager turns that into a 503 (fail closed).
 */
export interface RefreshTokenStore {
  /** Stores a new family and indexes it under its user. */
  create(family: NewRefreshTokenFamily): Promise<void>;
  /** Atomically checks and spends the presented token. Twenty concurrent calls with one token give one `rotated`. */
  rotate(request: RotationRequest): Promise<RotationResult>;
  /**
   * Removes the family when `tokenHash` is its current token or one it has spent;
   * resolves whether a family was removed.
   */
  revoke(familyId: string, tokenHash: string): Promise<boolean>;
  /** Removes every family of the user; resolves how many there were. */
  revokeUser(userId: string): Promise<number>;
}
