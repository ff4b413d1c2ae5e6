import { describe, expect, it, vi } from 'vitest';
import { authenticate } from './authenticate.js';
import { createPasswordHasher } from './password-hasher.js';

interface User {
  id: string;
  passwordHash: string | null;
}

const hasher = createPasswordHasher({ logN: 10, parallelization: 1 });
const BCRYPT = '$2b$04$94zMGFs47R9/NkiQ0B4gP.QPkHNDDZ3AUsVntLq2bd5pBxgzA5oFS'; // hunter2-legacy

const login = (user: User | undefined, password: string, rehash = vi.fn()) =>
  authenticate({ hasher, user, password, passwordHash: (u) => u.passwordHash, rehash });

describe('authenticate', () => {
  it('returns the user for the right password, undefined for a wrong one', async () => {
    const user = { id: 'u1', passwordHash: await hasher.hash('s3cret!') };
    const rehash = vi.fn();
    expect(await login(user, 's3cret!', rehash)).toBe(user);
    expect(await login(user, 's3cret?', rehash)).toBeUndefined();
    expect(rehash).not.toHaveBeenCalled();
  });

  it('spends one verification for an unknown user or one without a password', async () => {
    const verify = vi.fn(hasher.verify);
    const spied = { ...hasher, verify };
    const run = (user: User | undefined) =>
      authenticate({
        hasher: spied,
        user,
        password: 'whatever',
        passwordHash: (u) => u.passwordHash,
      });
    expect(await run(undefined)).toBeUndefined();
    expect(await run({ id: 'sso', passwordHash: null })).toBeUndefined();
    // The dummy path: verify runs (and hashes) even though there is nothing to compare.
    expect(verify).toHaveBeenCalledTimes(2);
    expect(verify).toHaveBeenNthCalledWith(1, 'whatever', undefined);
    expect(verify).toHaveBeenNthCalledWith(2, 'whatever', undefined);
  });

  it('rehashes a bcrypt hash to scrypt at the next successful login', async () => {
    const user: User = { id: 'legacy', passwordHash: BCRYPT };
    const rehash = vi.fn((u: User, hash: string) => {
      u.passwordHash = hash;
    });
    expect(await login(user, 'wrong', rehash)).toBeUndefined();
    expect(rehash).not.toHaveBeenCalled();
    expect(await login(user, 'hunter2-legacy', rehash)).toBe(user);
    expect(rehash).toHaveBeenCalledTimes(1);
    expect(user.passwordHash).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$/);
    // The new hash works and is current.
    expect(await login(user, 'hunter2-legacy', rehash)).toBe(user);
    expect(rehash).toHaveBeenCalledTimes(1);
  });

  it('rehashes scrypt hashes made with older parameters', async () => {
    const weaker = createPasswordHasher({ logN: 10, parallelization: 1, blockSize: 4 });
    const user: User = { id: 'u2', passwordHash: await weaker.hash('pw') };
    const rehash = vi.fn();
    expect(await login(user, 'pw', rehash)).toBe(user);
    expect(rehash).toHaveBeenCalledWith(user, expect.stringMatching(/^\$scrypt\$ln=10,r=8,p=1\$/));
  });

  it('treats a password past maxLength as wrong, without hashing', async () => {
    const user = { id: 'u3', passwordHash: await hasher.hash('pw') };
    expect(await login(user, 'p'.repeat(2000))).toBeUndefined();
  });
});
