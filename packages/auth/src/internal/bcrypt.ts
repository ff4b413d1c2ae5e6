/**
 * bcrypt verification through the optional peer dependency `bcryptjs`, loaded on
 * the first bcrypt hash only: services that never saw bcrypt never load it.
 */
import { PasswordError } from '../passwords/password-error.js';

/** `$2a$`, `$2b$` (and PHP's `$2y$`), a two-digit cost, 53 characters of salt and hash. */
const BCRYPT_PATTERN = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

interface Bcrypt {
  compare(password: string, hash: string): Promise<boolean>;
}

let loading: Promise<Bcrypt> | undefined;

/** Whether `hash` is a bcrypt hash this package can verify. */
export function isBcryptHash(hash: string): boolean {
  return BCRYPT_PATTERN.test(hash);
}

function load(): Promise<Bcrypt> {
  loading ??= import('bcryptjs').then(
    (module) => (module.default ?? module) as Bcrypt,
    (cause: unknown) => {
      loading = undefined;
      throw new PasswordError(
        'ERR_BCRYPT_UNAVAILABLE',
        'Verifying a bcrypt hash needs the optional peer dependency bcryptjs: run `npm install bcryptjs`.',
        { cause },
      );
    },
  );
  return loading;
}

/** Compares `password` with a bcrypt hash (bcryptjs compares in constant time). */
export async function verifyBcrypt(password: string, hash: string): Promise<boolean> {
  const bcrypt = await load();
  return bcrypt.compare(password, hash);
}
