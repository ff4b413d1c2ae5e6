import {
  type Context,
  type LoginFailedEvent,
  type SecurityEvent,
  securityEventChannel,
} from '@org/core';
import { getCurrentContext } from '@org/core/adapter';
import type { PasswordHasher } from './password-hasher.js';

/** Options of {@link authenticate}. */
export interface AuthenticateOptions<User> {
  /** The hasher that made (or will remake) the stored hashes. */
  hasher: PasswordHasher;
  /**
   * The user found by the login name, or null/undefined when there is none. Look
   * the user up the same way whether or not it exists; this helper makes the
   * password check take as long either way.
   */
  user: User | null | undefined;
  /** The password as submitted. */
  password: string;
  /** Reads the stored hash of a user; null or undefined for a user without a password (SSO only). */
  passwordHash: (user: User) => string | null | undefined;
  /**
   * Stores a fresh scrypt hash after a successful login with a bcrypt hash or with
   * old scrypt parameters (rehash on login). Omit it to keep hashes as they are.
   */
  rehash?: (user: User, newHash: string) => void | Promise<void>;
  /**
   * The user's id, for the `login.succeeded` and `login.failed` security events (which
   * never carry the submitted login name).
   * @default the user's `id` property when it is a string or a number
   */
  userId?: (user: User) => string;
  /** The login request, for the security events' request id and client address. @default the current context, when tracked */
  ctx?: Context;
}

function defaultUserId(user: unknown): string | undefined {
  const id = (user as { id?: unknown }).id;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

function publishLogin<User>(
  options: AuthenticateOptions<User>,
  user: User | null | undefined,
  reason: LoginFailedEvent['reason'] | undefined,
): void {
  const ctx = options.ctx ?? getCurrentContext();
  const userId =
    user === null || user === undefined
      ? undefined
      : (options.userId?.(user) ?? defaultUserId(user));
  const request = { time: Date.now(), request_id: ctx?.requestId, client_ip: ctx?.clientIp };
  securityEventChannel.publish(
    (reason === undefined
      ? { event: 'login.succeeded', ...request, user_id: userId }
      : {
          event: 'login.failed',
          ...request,
          user_id: userId,
          reason: reason ?? 'wrong_password',
        }) satisfies SecurityEvent,
  );
}

/**
 * Checks a login. Returns the user when the password matches its stored hash,
 * undefined otherwise. An unknown user, a user without a password and a wrong
 * password are indistinguishable in result and in timing: without a hash, the
 * password is checked against a dummy scrypt hash of the current cost. After a
 * success, a bcrypt or outdated hash is replaced through `rehash`. Publishes
 * `login.succeeded` or `login.failed` on the `org:security` channel.
 *
 * @example
 * ```ts
 * const user = await authenticate({
 *   hasher, password: body.password,
 *   user: await users.findByEmail(body.email),
 *   passwordHash: (u) => u.passwordHash,
 *   rehash: (u, hash) => users.setPasswordHash(u.id, hash),
 *   ctx, // login.succeeded / login.failed carry its request id and client address
 * });
 * if (user === undefined) throw new UnauthorizedError({ detail: 'Invalid email or password.' });
 * ```
 */
export async function authenticate<User>(
  options: AuthenticateOptions<User>,
): Promise<User | undefined> {
  const { hasher, user, password } = options;
  const stored = user === null || user === undefined ? undefined : options.passwordHash(user);
  // One verification on every path; `verify` spends the scrypt time even without a hash.
  const matches = await hasher.verify(password, stored ?? undefined);
  if (!matches || user === null || user === undefined || stored === null || stored === undefined) {
    if (securityEventChannel.hasSubscribers) {
      const reason =
        user === null || user === undefined
          ? 'unknown_user'
          : stored === null || stored === undefined
            ? 'no_password'
            : 'wrong_password';
      publishLogin(options, user, reason);
    }
    return undefined;
  }
  if (options.rehash !== undefined && hasher.needsRehash(stored)) {
    await options.rehash(user, await hasher.hash(password));
  }
  if (securityEventChannel.hasSubscribers) publishLogin(options, user, undefined);
  return user;
}
