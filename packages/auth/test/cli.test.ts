// The `org-auth` bin, run as a user runs it: a child process (from the sources, through
// the workspace's source hooks), its stdout, stderr, exit code and the files it writes.
import { execFile } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createAccessTokenVerifier,
  createKeySet,
  importJwks,
  importSigningKey,
  type JsonWebKeyInput,
  type SigningAlgorithm,
} from '@org/auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const hooks = fileURLToPath(new URL('../../../test-support/source-hooks.mjs', import.meta.url));
const bin = fileURLToPath(new URL('../src/cli/org-auth.ts', import.meta.url));
const ISSUER = 'https://api.example.com';
const AUDIENCE = 'api';

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'org-auth-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function orgAuth(...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--disable-warning=ExperimentalWarning', '--import', hooks, bin, ...args],
      { cwd: dir, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A verifier for the app that loads `file`, as the guides write it. */
async function verifierForKeyFile(file: string) {
  const text = await readFile(join(dir, file), 'utf8');
  const key = await (text.startsWith('{')
    ? importSigningKey({ jwk: JSON.parse(text) })
    : importSigningKey({ pem: text }));
  return createAccessTokenVerifier({
    keySet: createKeySet({ signingKey: key }),
    issuer: ISSUER,
    audience: AUDIENCE,
  });
}

const TOKEN_LINE = /^[\w-]+\.[\w-]+\.[\w-]+\n$/;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

describe('org-auth keygen, jwks and token', () => {
  it.each<[SigningAlgorithm, 'jwk' | 'pem']>([
    ['ES256', 'jwk'],
    ['EdDSA', 'pem'],
    ['RS256', 'pem'],
  ])('%s as %s: a 0600 key file, its public JWKS, a token that verifies', async (alg, format) => {
    const file = `${alg}.${format === 'jwk' ? 'json' : 'pem'}`;
    const generated = await orgAuth('keygen', '--alg', alg, '--out', file);
    expect(generated).toMatchObject({ code: 0, stderr: '' });
    expect(generated.stdout).toContain(`wrote the ${alg} private key`);
    expect((await stat(join(dir, file))).mode & 0o777).toBe(0o600);
    const text = await readFile(join(dir, file), 'utf8');
    if (format === 'pem') expect(text).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    else expect(JSON.parse(text)).toMatchObject({ alg, use: 'sig', d: expect.any(String) });

    const printed = await orgAuth('jwks', '--key', file);
    expect(printed).toMatchObject({ code: 0, stderr: '' });
    const jwks = JSON.parse(printed.stdout) as { keys: JsonWebKeyInput[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ alg, use: 'sig', kid: expect.any(String) });
    for (const member of PRIVATE_MEMBERS) expect(jwks.keys[0]).not.toHaveProperty(member);
    expect(generated.stdout).toContain(`"${jwks.keys[0]?.kid}"`);

    const minted = await orgAuth(
      'token',
      ...['--key', file, '--sub', 'user-1', '--iss', ISSUER, '--aud', AUDIENCE],
    );
    expect(minted).toMatchObject({ code: 0, stderr: '' });
    expect(minted.stdout).toMatch(TOKEN_LINE);
    const token = minted.stdout.trim();
    // A verifier that knows only the printed JWKS, and one that loads the key file.
    const fromJwks = createAccessTokenVerifier({
      keySet: createKeySet({ verificationKeys: await importJwks(jwks) }),
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    await expect(fromJwks.verify(token)).resolves.toMatchObject({ sub: 'user-1' });
    const fromFile = await verifierForKeyFile(file);
    await expect(fromFile.verify(token)).resolves.toMatchObject({ sub: 'user-1' });
  });

  it('token: the signer claims, with roles, scopes, lifetime and several audiences', async () => {
    await orgAuth('keygen', '--out', 'claims.json', '--kid', 'key-2030');
    const minted = await orgAuth(
      'token',
      ...['--key', 'claims.json', '--sub', 'user-2', '--roles', 'admin, user'],
      ...['--scopes', 'users:read,users:write', '--ttl', '2h'],
      ...['--iss', ISSUER, '--aud', `${AUDIENCE},reports`],
    );
    expect(minted.code).toBe(0);
    const [header, payload] = minted.stdout
      .trim()
      .split('.')
      .slice(0, 2)
      .map((segment) => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')));
    expect(header).toEqual({ alg: 'ES256', kid: 'key-2030', typ: 'at+jwt' });
    expect(payload).toMatchObject({
      iss: ISSUER,
      sub: 'user-2',
      aud: [AUDIENCE, 'reports'],
      roles: ['admin', 'user'],
      scope: 'users:read users:write',
      jti: expect.any(String),
    });
    expect(payload.exp - payload.iat).toBe(7200);
    const claims = await (await verifierForKeyFile('claims.json')).verify(minted.stdout.trim());
    expect(claims).toMatchObject({ roles: ['admin', 'user'], scope: 'users:read users:write' });
  });

  it('keygen refuses to overwrite without --force; --force replaces the file with mode 0600', async () => {
    await writeFile(join(dir, 'taken.json'), 'old');
    await chmod(join(dir, 'taken.json'), 0o644);
    const refused = await orgAuth('keygen', '--out', 'taken.json');
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toBe(
      'org-auth keygen: taken.json exists; pass --force to replace it, or choose another --out.\n',
    );
    expect(await readFile(join(dir, 'taken.json'), 'utf8')).toBe('old');

    expect((await orgAuth('keygen', '--out', 'taken.json', '--force')).code).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'taken.json'), 'utf8'))).toMatchObject({
      kty: 'EC',
    });
    expect((await stat(join(dir, 'taken.json'))).mode & 0o777).toBe(0o600);
  });

  it('HS256: a JWK secret that signs, no PEM, no public JWKS', async () => {
    expect((await orgAuth('keygen', '--alg', 'HS256', '--out', 'hs.json')).code).toBe(0);
    const jwk = JSON.parse(await readFile(join(dir, 'hs.json'), 'utf8'));
    expect(jwk).toMatchObject({ kty: 'oct', alg: 'HS256' });
    expect(Buffer.from(jwk.k, 'base64url')).toHaveLength(32);

    const jwks = await orgAuth('jwks', '--key', 'hs.json');
    expect(jwks).toMatchObject({ code: 1, stdout: '' });
    expect(jwks.stderr).toContain('symmetric keys have no public JWKS');
    expect(jwks.stderr).not.toContain(jwk.k);

    const minted = await orgAuth(
      'token',
      ...['--key', 'hs.json', '--sub', 'user-3', '--iss', ISSUER, '--aud', AUDIENCE],
    );
    expect(minted.stdout).toMatch(TOKEN_LINE);
    await expect(
      (await verifierForKeyFile('hs.json')).verify(minted.stdout.trim()),
    ).resolves.toMatchObject({
      sub: 'user-3',
    });

    const pem = await orgAuth('keygen', '--alg', 'HS256', '--out', 'hs.pem');
    expect(pem).toMatchObject({ code: 2, stdout: '' });
    expect(pem.stderr).toBe(
      'org-auth keygen: --format pem does not hold an HS256 secret; use --format jwk.\n',
    );
  });

  it('token refuses a public key: signing needs the private key', async () => {
    expect((await orgAuth('keygen', '--out', 'private.pem')).code).toBe(0);
    const spki = createPublicKey(await readFile(join(dir, 'private.pem'), 'utf8')).export({
      type: 'spki',
      format: 'pem',
    });
    await writeFile(join(dir, 'public.pem'), spki);
    const refused = await orgAuth(
      'token',
      ...['--key', 'public.pem', '--sub', 'u', '--iss', ISSUER, '--aud', AUDIENCE],
    );
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toBe(
      'org-auth token: public.pem holds a public key; signing needs the private key.\n',
    );
  });

  it.concurrent.each([
    [
      ['keygen', '--alg', 'ES384', '--out', 'x.json'],
      '--alg must be one of ES256, EdDSA, RS256, HS256; received "ES384".',
    ],
    [['keygen', '--alg', 'ES256'], '--out is required, for example --out signing-key.json.'],
    [['keygen', '--out'], '--out needs a value.'],
    [['keygen', '--out', 'x.pem', '--kid', 'k1'], '--kid needs --format jwk'],
    [['token', '--key', 'k.json', '--iss', ISSUER, '--aud', AUDIENCE], '--sub is required'],
    [
      [
        'token',
        '--key',
        'k.json',
        '--sub',
        'u',
        '--iss',
        ISSUER,
        '--aud',
        AUDIENCE,
        '--ttl',
        '15 minutes',
      ],
      '--ttl must be a positive lifetime',
    ],
    [['token', '--subject', 'u'], 'unknown option --subject.'],
    [['jwks', 'key.json'], 'unexpected argument "key.json"'],
    [['jwks'], '--key is required'],
    [['rotate'], 'unknown command "rotate"'],
  ])('usage error %j: exit 2 and one line naming the option', async (args, message) => {
    const result = await orgAuth(...args);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toContain(message);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^org-auth( \w+)?: /);
  });

  it('--help of the bin and of each command', async () => {
    const [top, keygen, jwks, token, none] = await Promise.all([
      orgAuth('--help'),
      orgAuth('keygen', '--help'),
      orgAuth('jwks', '-h'),
      orgAuth('token', '--help'),
      orgAuth(),
    ]);
    expect(top).toMatchObject({ code: 0, stderr: '' });
    expect(top.stdout).toMatch(/^Usage: org-auth <command>/);
    for (const command of ['keygen', 'jwks', 'token'])
      expect(top.stdout).toContain(`  ${command} `);
    expect(keygen.stdout).toMatch(/^Usage: org-auth keygen --out <file>/);
    expect(jwks.stdout).toMatch(/^Usage: org-auth jwks --key <file>/);
    expect(token.stdout).toMatch(/^Usage: org-auth token --key <file> --sub <id>/);
    for (const result of [keygen, jwks, token]) expect(result.code).toBe(0);
    // No command: the help goes to stderr, and the exit code says it was a usage error.
    expect(none).toMatchObject({ code: 2, stdout: '' });
    expect(none.stderr).toMatch(/^Usage: org-auth <command>/);
  });
});
