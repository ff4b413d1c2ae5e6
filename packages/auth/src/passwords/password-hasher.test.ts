import { ConfigurationError } from '@org/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PasswordError } from './password-error.js';
import { createPasswordHasher, PasswordHasherBusyError } from './password-hasher.js';

/** Fast parameters for tests; the defaults are exercised once below. */
const fast = { logN: 10, parallelization: 1 };
const PHC = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/;

/** Python's hashlib.scrypt (OpenSSL) for the same inputs: an independent implementation. */
const PYTHON_VECTOR =
  '$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$bHXojks4sm1uMH4CDw9EcLZ/muyLxbYYc9xGzvNAnuQ';
/** bcryptjs, cost 4, password `hunter2-legacy` (as passlib/bcrypt would have stored it). */
const BCRYPT_2B = '$2b$04$94zMGFs47R9/NkiQ0B4gP.QPkHNDDZ3AUsVntLq2bd5pBxgzA5oFS';
const BCRYPT_2A = '$2a$04$RYM3dpoXMGmQY9UivNMj/uzumwNB.ph85V3GMNpXAl./II3X4/xja';

afterEach(() => {
  vi.doUnmock('bcryptjs');
  vi.resetModules();
});

describe('createPasswordHasher', () => {
  it('round-trips with the default parameters, in PHC format with a fresh salt', async () => {
    const hasher = createPasswordHasher();
    const hash = await hasher.hash('correct horse battery staple');
    expect(hash).toMatch(PHC);
    expect(hash.startsWith('$scrypt$ln=15,r=8,p=3$')).toBe(true);
    expect(await hasher.verify('correct horse battery staple', hash)).toBe(true);
    expect(hasher.needsRehash(hash)).toBe(false);
    const quick = createPasswordHasher(fast);
    expect(await quick.hash('same')).not.toBe(await quick.hash('same'));
  });

  it('verifies a hash made by another scrypt implementation, and Unicode passwords', async () => {
    const hasher = createPasswordHasher(fast);
    expect(await hasher.verify('correct horse battery staple', PYTHON_VECTOR)).toBe(true);
    expect(await hasher.verify('Correct horse battery staple', PYTHON_VECTOR)).toBe(false);
    const hash = await hasher.hash('pässwörd 🔑');
    expect(await hasher.verify('pässwörd 🔑', hash)).toBe(true);
    expect(await hasher.verify('passwörd 🔑', hash)).toBe(false);
  });

  it('asks for a rehash when the parameters change', async () => {
    const old = createPasswordHasher(fast);
    const stored = await old.hash('pw');
    const stronger = createPasswordHasher({ ...fast, logN: 11 });
    expect(stronger.needsRehash(stored)).toBe(true);
    expect(await stronger.verify('pw', stored)).toBe(true); // old hashes keep working
    expect(createPasswordHasher({ ...fast, keyLength: 64 }).needsRehash(stored)).toBe(true);
    expect(createPasswordHasher({ ...fast, saltLength: 32 }).needsRehash(stored)).toBe(true);
    expect(old.needsRehash(stored)).toBe(false);
    expect(old.needsRehash(BCRYPT_2B)).toBe(true);
  });

  it('caps the password length against hashing denial of service', async () => {
    const hasher = createPasswordHasher({ ...fast, maxLength: 16 });
    const error = await hasher.hash('x'.repeat(17)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PasswordError);
    expect((error as PasswordError).code).toBe('ERR_PASSWORD_TOO_LONG');
    const stored = await hasher.hash('x'.repeat(16));
    expect(await hasher.verify('x'.repeat(16), stored)).toBe(true);
    expect(await hasher.verify('x'.repeat(17), stored)).toBe(false);
    expect(createPasswordHasher().maxLength).toBe(1024);
    expect(await createPasswordHasher(fast).verify('x'.repeat(1025), stored)).toBe(false);
  });

  it('answers false for an unknown user after the work of a real verification', async () => {
    const calls: unknown[][] = [];
    vi.doMock('../internal/scrypt-phc.js', async (importOriginal) => {
      const original = await importOriginal<typeof import('../internal/scrypt-phc.js')>();
      return {
        ...original,
        deriveScrypt: (...args: Parameters<typeof original.deriveScrypt>) => {
          calls.push(args);
          return original.deriveScrypt(...args);
        },
      };
    });
    vi.resetModules();
    const { createPasswordHasher: fresh } = await import('./password-hasher.js');
    const hasher = fresh(fast);
    expect(await hasher.verify('anything', undefined)).toBe(false);
    expect(await hasher.verify('anything', null)).toBe(false);
    // One scrypt derivation each, with the current parameters and key length.
    expect(calls).toHaveLength(2);
    expect(calls[0]?.[2]).toEqual({ logN: 10, r: 8, p: 1 });
    expect(calls[0]?.[3]).toBe(32);
    vi.doUnmock('../internal/scrypt-phc.js');
  });

  it('verifies bcrypt $2a$ and $2b$ hashes through bcryptjs', async () => {
    const hasher = createPasswordHasher(fast);
    expect(await hasher.verify('hunter2-legacy', BCRYPT_2B)).toBe(true);
    expect(await hasher.verify('hunter2-legacy', BCRYPT_2A)).toBe(true);
    expect(await hasher.verify('hunter3-legacy', BCRYPT_2B)).toBe(false);
  });

  it('says clearly that bcryptjs is missing when a bcrypt hash needs it', async () => {
    vi.doMock('bcryptjs', () => {
      throw new Error("Cannot find package 'bcryptjs'");
    });
    vi.resetModules();
    const { createPasswordHasher: fresh } = await import('./password-hasher.js');
    const error = await fresh(fast)
      .verify('hunter2-legacy', BCRYPT_2B)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'PasswordError', code: 'ERR_BCRYPT_UNAVAILABLE' });
    expect((error as Error).message).toMatch(/npm install bcryptjs/);
  });

  it('refuses unknown or tampered stored hashes', async () => {
    const hasher = createPasswordHasher(fast);
    for (const stored of [
      '',
      'plain',
      '$argon2id$v=19$m=65536,t=3,p=4$abc$def',
      PYTHON_VECTOR.replace('ln=10', 'ln=40'),
    ]) {
      const error = await hasher.verify('pw', stored).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ERR_PASSWORD_HASH_UNSUPPORTED' });
      expect((error as Error).message).not.toContain(stored || '\u0000');
    }
  });

  it('refuses bad parameters at start-up, naming the option', () => {
    expect(() => createPasswordHasher({ logN: 9 })).toThrow(/^createPasswordHasher: logN must be/);
    expect(() => createPasswordHasher({ blockSize: 0 })).toThrow(
      /^createPasswordHasher: blockSize/,
    );
    expect(() => createPasswordHasher({ saltLength: 8 })).toThrow(
      /^createPasswordHasher: saltLength/,
    );
    expect(() => createPasswordHasher({ maxLength: 0 })).toThrow(ConfigurationError);
    expect(() => createPasswordHasher({ maxConcurrent: 0 })).toThrow(
      /^createPasswordHasher: maxConcurrent/,
    );
    expect(() => createPasswordHasher({ maxQueued: -1 })).toThrow(
      /^createPasswordHasher: maxQueued/,
    );
    expect(() => createPasswordHasher({ maxWaitMs: 0 })).toThrow(
      /^createPasswordHasher: maxWaitMs/,
    );
  });

  it('runs maxConcurrent at once, queues maxQueued, and refuses the rest with a 503', async () => {
    const hasher = createPasswordHasher({ ...fast, maxConcurrent: 1, maxQueued: 1 });
    const stored = await hasher.hash('pw');
    const settled = await Promise.allSettled([
      hasher.verify('pw', stored), // runs
      hasher.verify('nope', stored), // waits
      hasher.verify('pw', null), // refused
      hasher.hash('pw'), // refused
    ]);
    expect(settled.slice(0, 2)).toEqual([
      { status: 'fulfilled', value: true },
      { status: 'fulfilled', value: false },
    ]);
    for (const refused of settled.slice(2)) {
      expect(refused.status).toBe('rejected');
      const error = (refused as PromiseRejectedResult).reason;
      expect(error).toBeInstanceOf(PasswordHasherBusyError);
      expect(error).toMatchObject({
        status: 503,
        code: 'ERR_PASSWORD_HASHER_BUSY',
        headers: { 'retry-after': '1' },
      });
    }
    // The slots came back: the next ones run.
    await expect(
      Promise.all([hasher.verify('pw', stored), hasher.verify('pw', stored)]),
    ).resolves.toEqual([true, true]);
  });

  it('refuses an operation that waited maxWaitMs for a slot, and keeps the queue going', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const hasher = createPasswordHasher({
        ...fast,
        maxConcurrent: 1,
        maxQueued: 2,
        maxWaitMs: 100,
      });
      const stored = createPasswordHasher(fast).hash('pw');
      const running = hasher.verify('pw', await stored);
      const late = hasher.verify('pw', await stored);
      const refusal = expect(late).rejects.toMatchObject({
        status: 503,
        code: 'ERR_PASSWORD_HASHER_BUSY',
        headers: { 'retry-after': '1' },
      });
      // Still in the thread pool: the queued one cannot have started.
      vi.advanceTimersByTime(100);
      await refusal;
      await expect(running).resolves.toBe(true);
      // Its place in the queue is gone: the next two (one runs, one waits) both succeed.
      await expect(
        Promise.all([hasher.verify('pw', await stored), hasher.verify('pw', await stored)]),
      ).resolves.toEqual([true, true]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('frees the slot of an operation that failed', async () => {
    // Without bcryptjs, a bcrypt verification fails inside its slot.
    vi.doMock('bcryptjs', () => {
      throw new Error("Cannot find package 'bcryptjs'");
    });
    vi.resetModules();
    const { createPasswordHasher: fresh } = await import('./password-hasher.js');
    const hasher = fresh({ ...fast, maxConcurrent: 1, maxQueued: 0 });
    await expect(hasher.verify('hunter2-legacy', BCRYPT_2B)).rejects.toMatchObject({
      code: 'ERR_BCRYPT_UNAVAILABLE',
    });
    await expect(hasher.verify('pw', await hasher.hash('pw'))).resolves.toBe(true);
  });
});
