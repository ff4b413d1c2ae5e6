import {
  authOutcomeChannel,
  type Clock,
  type Context,
  type SecurityEvent,
  securityEventChannel,
  systemClock,
} from '@org/core';
import { getCurrentContext, positiveInteger } from '@org/core/adapter';
import { checkRealm } from '../internal/challenge.js';
import { failClosed } from '../internal/fail-closed.js';
import { mintToken, newFamilyId, parseToken } from '../internal/refresh-token-format.js';
import { MemoryRefreshTokenStore } from './memory-store.js';
import { RefreshTokenError, type RefreshTokenErrorCode } from './refresh-token-error.js';
import type { RefreshTokenStore } from './types.js';

/** Options of {@link createRefreshTokenManager}. */
export interface RefreshTokenManagerOptions {
  /** Where families live. @default a new {@link MemoryRefreshTokenStore} (one instance only) */
  store?: RefreshTokenStore;
  /** Lifetime of each token: a token not rotated within it expires. @default 604800 (7 days) */
  tokenLifetimeSeconds?: number;
  /** Absolute lifetime of a family from login, however often it is rotated. @default 2592000 (30 days) */
  familyLifetimeSeconds?: number;
  /** Source of time for every expiry. @default systemClock */
  clock?: Clock;
  /** Realm of the 401 challenges. @default 'api' */
  realm?: string;
}

/** A refresh token handed to a client. Times are milliseconds since the epoch. */
export interface IssuedRefreshToken {
  /** The opaque token to send to the client. Never store or log it. */
  readonly token: string;
  /** The family (login session) it belongs to. */
  readonly familyId: string;
  /** The user it was issued to. */
  readonly userId: string;
  /** When it expires unless rotated first. */
  readonly expiresAt: number;
  /** When its family ends: no rotation extends past it. */
  readonly familyExpiresAt: number;
}

/** Issues, rotates and revokes refresh tokens. Create it with {@link createRefreshTokenManager}. */
export interface RefreshTokenManager {
  /** Starts a new family (a login) for `userId` and returns its first token. */
  issue(userId: string): Promise<IssuedRefreshToken>;
  /**
   * Spends `token` and returns its successor. Rejects with {@link RefreshTokenError}
   * (401: `ERR_REFRESH_INVALID`, `ERR_REFRESH_REUSED` with the family revoked,
   * `ERR_REFRESH_EXPIRED`), or with a 503 `ServiceUnavailableError` when the store
   * cannot be reached. `ctx`, the request, gives the security events their request id
   * and client address (default: the current context, when the toolkit tracks it).
   */
  rotate(token: string, ctx?: Context): Promise<IssuedRefreshToken>;
  /** Logout: revokes the family of `token`. Resolves false for an unknown token (RFC 7009 section 2.2: not an error). */
  revoke(token: string): Promise<boolean>;
  /** Revokes every family of the user (after a password change); resolves how many. */
  revokeAllForUser(userId: string): Promise<number>;
}

function seconds(name: string, value: number | undefined, fallback: number): number {
  return positiveInteger('createRefreshTokenManager', name, value, fallback) * 1000;
}

/**
 * Opaque, rotating refresh tokens (RFC 9700 section 4.14.2). Each token is 256
 * random bits and is stored only as its SHA-256. A login starts a family; each
 * refresh spends the presented token and issues the next; presenting a spent token
 * again revokes the family, the newest token included, and publishes
 * `refresh.reuse_detected` (family, user, request) on the `org:security` channel; other
 * refusals publish `token.refused`. A store failure is a 503: never a 500 and never a
 * success (fail closed).
 *
 * @example
 * ```ts
 * const refreshTokens = createRefreshTokenManager({ store: new RedisRefreshTokenStore({ client: redis }) });
 * const { token } = await refreshTokens.issue(user.id);        // login
 * const next = await refreshTokens.rotate(body.refresh_token, ctx); // refresh: 401 or 503 on failure
 * await refreshTokens.revoke(body.refresh_token);              // logout
 * ```
 */
export function createRefreshTokenManager(
  options: RefreshTokenManagerOptions = {},
): RefreshTokenManager {
  const store = options.store ?? new MemoryRefreshTokenStore();
  const clock = options.clock ?? systemClock;
  const tokenLifetimeMs = seconds('tokenLifetimeSeconds', options.tokenLifetimeSeconds, 604_800);
  const familyLifetimeMs = seconds(
    'familyLifetimeSeconds',
    options.familyLifetimeSeconds,
    2_592_000,
  );
  const realm = checkRealm('realm', options.realm ?? 'api');

  const refuse = (code: RefreshTokenErrorCode, ctx: Context | undefined): RefreshTokenError => {
    if (authOutcomeChannel.hasSubscribers) authOutcomeChannel.publish({ ctx, outcome: code });
    if (code !== 'ERR_REFRESH_REUSED' && securityEventChannel.hasSubscribers) {
      securityEventChannel.publish({
        event: 'token.refused',
        time: clock.now(),
        request_id: ctx?.requestId,
        client_ip: ctx?.clientIp,
        credential: 'refresh_token',
        reason: code,
      } satisfies SecurityEvent);
    }
    return new RefreshTokenError(code, { realm });
  };

  // RFC 9700 section 4.14.2: a replayed refresh token revokes the family; say whose.
  const reused = (
    familyId: string,
    userId: string,
    ctx: Context | undefined,
  ): RefreshTokenError => {
    if (securityEventChannel.hasSubscribers) {
      securityEventChannel.publish({
        event: 'refresh.reuse_detected',
        time: clock.now(),
        request_id: ctx?.requestId,
        client_ip: ctx?.clientIp,
        family_id: familyId,
        user_id: userId,
        family_revoked: true,
      } satisfies SecurityEvent);
    }
    return refuse('ERR_REFRESH_REUSED', ctx);
  };

  const guarded = failClosed(
    'ERR_REFRESH_STORE_UNAVAILABLE',
    'Sessions are unavailable right now; try again shortly.',
  );

  return Object.freeze({
    async issue(userId: string): Promise<IssuedRefreshToken> {
      if (typeof userId !== 'string' || userId === '') {
        throw new TypeError('issue(userId) needs the user id as a non-empty string.');
      }
      const now = clock.now();
      const minted = mintToken(newFamilyId());
      const familyExpiresAt = now + familyLifetimeMs;
      const expiresAt = Math.min(now + tokenLifetimeMs, familyExpiresAt);
      await guarded(() =>
        store.create({
          familyId: minted.familyId,
          userId,
          tokenHash: minted.hash,
          expiresAt,
          familyExpiresAt,
          now,
        }),
      );
      return { token: minted.token, familyId: minted.familyId, userId, expiresAt, familyExpiresAt };
    },

    async rotate(token: string, ctx?: Context): Promise<IssuedRefreshToken> {
      const request = ctx ?? getCurrentContext();
      const presented = parseToken(token);
      if (presented === undefined) throw refuse('ERR_REFRESH_INVALID', request);
      const next = mintToken(presented.familyId);
      const result = await guarded(() =>
        store.rotate({
          familyId: presented.familyId,
          tokenHash: presented.hash,
          nextTokenHash: next.hash,
          now: clock.now(),
          tokenLifetimeMs,
        }),
      );
      switch (result.status) {
        case 'rotated':
          return {
            token: next.token,
            familyId: next.familyId,
            userId: result.userId,
            expiresAt: result.expiresAt,
            familyExpiresAt: result.familyExpiresAt,
          };
        case 'reused':
          throw reused(presented.familyId, result.userId, request);
        case 'expired':
          throw refuse('ERR_REFRESH_EXPIRED', request);
        case 'invalid':
          throw refuse('ERR_REFRESH_INVALID', request);
        default:
          return result satisfies never;
      }
    },

    async revoke(token: string): Promise<boolean> {
      const presented = parseToken(token);
      if (presented === undefined) return false;
      return guarded(() => store.revoke(presented.familyId, presented.hash));
    },

    async revokeAllForUser(userId: string): Promise<number> {
      return guarded(() => store.revokeUser(userId));
    },
  });
}
