import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestKey, createTokenFactory, type TokenFactory } from '@org/testing';
import { EXAMPLES, type ExampleName } from './example-process.ts';

/** The issuer and audience the examples sign and accept. */
const ISSUER = 'urn:example:users-api';

/** What every process of one example shares: its signing key, admin and CORS origin. */
export interface ExampleFixture {
  readonly name: ExampleName;
  /** A directory for this example's files (key, database). */
  readonly dir: string;
  /** The seeded admin. */
  readonly admin: { readonly email: string; readonly password: string };
  /** The origin in CORS_ORIGINS. */
  readonly corsOrigin: string;
  /** Mints and forges tokens with the example's own signing key. */
  readonly tokens: TokenFactory;
  /** The environment every process of this example starts with. */
  env(): Record<string, string>;
}

/**
 * The signing key is the test's (through SIGNING_KEY_FILE), so tokens can be minted
 * and forged with it. Half the examples read it as PEM, half as a JWK.
 */
export async function createExampleFixture(name: ExampleName): Promise<ExampleFixture> {
  const key = await createTestKey({ alg: 'ES256' });
  const dir = await mkdtemp(join(tmpdir(), `example-${name}-`));
  const usePem = EXAMPLES.indexOf(name) % 2 === 0;
  const keyFile = join(dir, usePem ? 'signing-key.pem' : 'signing-key.jwk.json');
  await writeFile(keyFile, usePem ? (key.privatePem as string) : JSON.stringify(key.privateJwk));
  const admin = { email: 'root@example.com', password: 'battery staple horse correct' };
  const corsOrigin = 'https://app.example.com';
  return {
    name,
    dir,
    admin,
    corsOrigin,
    tokens: createTokenFactory({ key, issuer: ISSUER, audience: ISSUER }),
    env: () => ({
      SIGNING_KEY_FILE: keyFile,
      SEED_ADMIN_EMAIL: admin.email,
      SEED_ADMIN_PASSWORD: admin.password,
      CORS_ORIGINS: corsOrigin,
      LOG_LEVEL: 'warn',
    }),
  };
}
