import {
  type AccessTokenSigner,
  authenticate,
  type LoginCredentials,
  type PasswordHasher,
  type RefreshTokenManager,
} from '@org/auth';
import { type Context, UnauthorizedError } from '@org/core';
import type { LoginGuard } from '@org/security';
import type { TokenPair } from './schemas.ts';
import type { UserRecord, UserStore } from './user-repository.ts';

/** What {@link SessionService} works with. */
export interface SessionServiceOptions {
  readonly users: UserStore;
  readonly hasher: PasswordHasher;
  readonly signer: AccessTokenSigner;
  readonly refreshTokens: RefreshTokenManager;
  readonly loginGuard: LoginGuard;
}

/**
 * One answer for every failed login (unknown email, wrong password, disabled
 * account), so the response never tells which accounts exist.
 */
const invalidCredentials = () =>
  new UnauthorizedError({
    code: 'ERR_INVALID_CREDENTIALS',
    detail: 'Invalid email or password.',
    challenge: 'Bearer realm="api"',
  });

/** Login, refresh and logout: access tokens (JWT) plus rotating refresh tokens. */
export class SessionService {
  readonly #users: UserStore;
  readonly #hasher: PasswordHasher;
  readonly #signer: AccessTokenSigner;
  readonly #refreshTokens: RefreshTokenManager;
  readonly #loginGuard: LoginGuard;

  constructor(options: SessionServiceOptions) {
    this.#users = options.users;
    this.#hasher = options.hasher;
    this.#signer = options.signer;
    this.#refreshTokens = options.refreshTokens;
    this.#loginGuard = options.loginGuard;
  }

  /**
   * Checks the password and starts a session. The brute-force guard runs first, so
   * after 5 failures for this account from this client even the right password is a
   * 429 until the window ends.
   */
  async login(ctx: Context, credentials: LoginCredentials): Promise<TokenPair> {
    const account = credentials.username.trim().toLowerCase();
    await this.#loginGuard.check(ctx, account);
    let user: UserRecord | undefined;
    try {
      user = await authenticate({
        hasher: this.#hasher,
        user: await this.#users.findByEmail(account),
        password: credentials.password,
        passwordHash: (u) => u.passwordHash,
        rehash: (u, hash) => this.#users.setPasswordHash(u.id, hash),
      });
    } catch (error) {
      // No verdict (the hasher was busy, the database failed): not a failed attempt.
      await this.#loginGuard.release(ctx, account);
      throw error;
    }
    if (user === undefined || !user.isActive) {
      await this.#loginGuard.recordFailure(ctx, account);
      throw invalidCredentials();
    }
    await this.#loginGuard.recordSuccess(ctx, account);
    const refresh = await this.#refreshTokens.issue(user.id);
    return this.#pair(user, refresh.token);
  }

  /**
   * Spends a refresh token for a new pair. A replayed token is a 401 that revokes its
   * whole family (RFC 9700 4.14.2), done by the refresh-token manager.
   */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const next = await this.#refreshTokens.rotate(refreshToken);
    const user = await this.#users.findById(next.userId);
    if (user === undefined || !user.isActive) {
      await this.#refreshTokens.revoke(next.token);
      throw new UnauthorizedError({
        code: 'ERR_REFRESH_INVALID',
        detail: 'The session has ended; sign in again.',
        challenge: 'Bearer realm="api", error="invalid_token"',
      });
    }
    // Roles come from the database now, so a demoted user loses them at the next refresh.
    return this.#pair(user, next.token);
  }

  /** Ends the session of a refresh token. Unknown tokens are fine (RFC 7009 2.2). */
  async logout(refreshToken: string): Promise<void> {
    await this.#refreshTokens.revoke(refreshToken);
  }

  async #pair(user: UserRecord, refreshToken: string): Promise<TokenPair> {
    const access = await this.#signer.sign({ subject: user.id, roles: user.roles });
    return {
      access_token: access.token,
      refresh_token: refreshToken,
      token_type: 'bearer',
      expires_in: access.expiresIn,
    };
  }
}
