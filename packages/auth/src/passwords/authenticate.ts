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
}

/**
 * Checks a login. Returns the user when the password matches its stored hash,
 * undefined otherwise. An unknown user, a user without a password and a wrong
 * password are indistinguishable in result and in timing: without a hash, the
 * password is checked against a dummy scrypt hash of the current cost. After a
 * success, a bcrypt or outdated hash is replaced through `rehash`.
 *
 * @example
 * ```ts
 * const user = await authenticate({
 *   hasher, password: body.password,
 *   user: await users.findByEmail(body.email),
 *   passwordHash: (u) => u.passwordHash,
 *   rehash: (u, hash) => users.setPasswordHash(u.id, hash),
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
    return undefined;
  }
  if (options.rehash !== undefined && hasher.needsRehash(stored)) {
    await options.rehash(user, await hasher.hash(password));
  }
  return user;
}
