import { randomBytes, timingSafeEqual } from 'node:crypto';
import { ServiceUnavailableError } from '@org/core';
import { integerInRange } from '@org/core/adapter';
import { isBcryptHash, verifyBcrypt } from '../internal/bcrypt.js';
import {
  deriveScrypt,
  formatScryptHash,
  parseScryptHash,
  type ScryptParameters,
} from '../internal/scrypt-phc.js';
import { PasswordError } from './password-error.js';

/**
 * Options of {@link createPasswordHasher}. The defaults are one of OWASP's scrypt
 * settings (N=2^15, r=8, p=3: 32 MiB per hash); raise them as hardware allows, and
 * `needsRehash` moves every user to the new cost at their next login.
 */
export interface PasswordHasherOptions {
  /** log2 of scrypt's CPU/memory cost N, from 10 to 22. @default 15 */
  logN?: number;
  /** scrypt block size r, from 1 to 32. @default 8 */
  blockSize?: number;
  /** scrypt parallelization p, from 1 to 16. @default 3 */
  parallelization?: number;
  /** Salt bytes, from 16 to 64. @default 16 */
  saltLength?: number;
  /** Derived key bytes, from 16 to 64. @default 32 */
  keyLength?: number;
  /** Longest accepted password in characters, against hashing denial of service. @default 1024 */
  maxLength?: number;
  /**
   * Hashes and verifications run at once, from 1 to 64. Each scrypt holds its memory
   * (32 MiB at the default cost) and a thread of libuv's pool, which file system, DNS and
   * zlib work share: the default leaves that pool one thread.
   * @default 3
   */
  maxConcurrent?: number;
  /**
   * Hashes and verifications that may wait for a free slot, from 0 to 10,000. One more is
   * refused at once with a 503 `ERR_PASSWORD_HASHER_BUSY` and `Retry-After: 1`, so a
   * flood of logins cannot queue up unbounded work and memory (OWASP API4:2023,
   * Unrestricted Resource Consumption).
   * @default 32
   */
  maxQueued?: number;
  /**
   * Longest wait for a free slot, in milliseconds, from 1 to 60,000. An operation still
   * waiting then is refused with the same 503 as a full queue: on a machine too busy to
   * hash, a login fails fast and can be retried, instead of waiting for the request's
   * deadline (OWASP API4:2023).
   * @default 2000
   */
  maxWaitMs?: number;
}

/** Hashes and verifies passwords. */
export interface PasswordHasher {
  /** Longest accepted password. */
  readonly maxLength: number;
  /**
   * Hashes a password to a PHC string (`$scrypt$ln=15,r=8,p=3$salt$hash`).
   * @throws {@link PasswordError} `ERR_PASSWORD_TOO_LONG` past `maxLength`.
   */
  hash(password: string): Promise<string>;
  /**
   * Checks a password against a stored scrypt or bcrypt (`$2a$`, `$2b$`) hash in
   * constant time. With no stored hash (unknown user), it still spends the time of
   * one scrypt verification and answers false, so timing does not reveal which
   * users exist. A password past `maxLength` is false without hashing.
   * @throws {@link PasswordError} for a stored hash in an unknown format, or a
   * bcrypt hash without `bcryptjs` installed.
   */
  verify(password: string, storedHash: string | null | undefined): Promise<boolean>;
  /** Whether a stored hash should be replaced at the next successful login: bcrypt, or other scrypt parameters. */
  needsRehash(storedHash: string): boolean;
}

/**
 * 503 from {@link PasswordHasher.hash} and {@link PasswordHasher.verify} when
 * `maxQueued` operations already wait for one of the `maxConcurrent` slots, or when an
 * operation waited `maxWaitMs` without getting one; it carries `Retry-After: 1`.
 */
export class PasswordHasherBusyError extends ServiceUnavailableError {
  /** Stable code. */
  static override readonly code = 'ERR_PASSWORD_HASHER_BUSY';
  constructor() {
    super({
      code: PasswordHasherBusyError.code,
      detail: 'Too many password checks are waiting; try again shortly.',
      retryAfter: 1,
    });
    this.name = 'PasswordHasherBusyError';
  }
}

/**
 * Runs at most `concurrent` tasks at once and lets `queued` more wait, each at most
 * `maxWaitMs`; refuses the rest.
 */
function createGate(concurrent: number, queued: number, maxWaitMs: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  const release = (): void => {
    const next = waiting.shift();
    // The slot passes straight to the next waiter; `running` only drops when none waits.
    if (next === undefined) running--;
    else next();
  };
  const slot = () =>
    new Promise<void>((resolve, reject) => {
      const start = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiting.splice(waiting.indexOf(start), 1);
        reject(new PasswordHasherBusyError());
      }, maxWaitMs);
      waiting.push(start);
    });
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running < concurrent) running++;
    else if (waiting.length < queued) await slot();
    else throw new PasswordHasherBusyError();
    try {
      return await task();
    } finally {
      release();
    }
  };
}

function inRange(name: string, value: number, min: number, max: number): number {
  return integerInRange('createPasswordHasher', name, value, { min, max, fallback: value });
}

/**
 * Creates a scrypt password hasher (node:crypto; PHC string format) that also
 * verifies bcrypt hashes from a previous system through the optional peer
 * `bcryptjs`, so they can be rehashed to scrypt at login.
 *
 * @example
 * ```ts
 * const passwords = createPasswordHasher();
 * const stored = await passwords.hash('correct horse battery staple');
 * await passwords.verify('correct horse battery staple', stored); // true
 * ```
 */
export function createPasswordHasher(options: PasswordHasherOptions = {}): PasswordHasher {
  const parameters: ScryptParameters = {
    logN: inRange('logN', options.logN ?? 15, 10, 22),
    r: inRange('blockSize', options.blockSize ?? 8, 1, 32),
    p: inRange('parallelization', options.parallelization ?? 3, 1, 16),
  };
  const saltLength = inRange('saltLength', options.saltLength ?? 16, 16, 64);
  const keyLength = inRange('keyLength', options.keyLength ?? 32, 16, 64);
  const maxLength = inRange('maxLength', options.maxLength ?? 1024, 1, 1_048_576);
  const gated = createGate(
    inRange('maxConcurrent', options.maxConcurrent ?? 3, 1, 64),
    inRange('maxQueued', options.maxQueued ?? 32, 0, 10_000),
    inRange('maxWaitMs', options.maxWaitMs ?? 2000, 1, 60_000),
  );
  // Compared against when there is no user: never equal to any derived key that matters.
  const dummyHash = randomBytes(keyLength);

  const tooLong = (password: string) => typeof password !== 'string' || password.length > maxLength;

  return Object.freeze({
    maxLength,
    async hash(password: string): Promise<string> {
      if (tooLong(password)) {
        throw new PasswordError(
          'ERR_PASSWORD_TOO_LONG',
          `A password must be at most ${maxLength} characters.`,
        );
      }
      const salt = randomBytes(saltLength);
      const hash = await gated(() => deriveScrypt(password, salt, parameters, keyLength));
      return formatScryptHash({ ...parameters, salt, hash });
    },
    async verify(password: string, storedHash: string | null | undefined): Promise<boolean> {
      if (tooLong(password)) return false;
      if (storedHash === undefined || storedHash === null) {
        const salt = randomBytes(saltLength);
        const derived = await gated(() => deriveScrypt(password, salt, parameters, keyLength));
        timingSafeEqual(derived, dummyHash);
        return false;
      }
      const scrypt = parseScryptHash(storedHash);
      if (scrypt !== undefined) {
        const derived = await gated(() =>
          deriveScrypt(password, scrypt.salt, scrypt, scrypt.hash.length),
        );
        return timingSafeEqual(derived, scrypt.hash);
      }
      if (isBcryptHash(storedHash)) return gated(() => verifyBcrypt(password, storedHash));
      throw new PasswordError(
        'ERR_PASSWORD_HASH_UNSUPPORTED',
        'The stored password hash is neither a scrypt PHC string nor a bcrypt hash.',
      );
    },
    needsRehash(storedHash: string): boolean {
      const scrypt = parseScryptHash(storedHash);
      return (
        scrypt === undefined ||
        scrypt.logN !== parameters.logN ||
        scrypt.r !== parameters.r ||
        scrypt.p !== parameters.p ||
        scrypt.salt.length !== saltLength ||
        scrypt.hash.length !== keyLength
      );
    },
  });
}
