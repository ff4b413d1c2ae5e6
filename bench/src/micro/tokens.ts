// Issue 4: verifying the same access token repeatedly, HS256 and ES256: our verifier
// with and without its verified-token cache, next to jose alone and fast-jwt's
// verifier with and without its cache. Each does the same checks (alg allow-list,
// iss, aud, exp; typ where the library can). Prints JSON tables for run.ts.
import { webcrypto } from 'node:crypto';
import { createAccessTokenVerifier, createKeySet } from '@org/auth';
import { createVerifier } from 'fast-jwt';
import { importSPKI, jwtVerify } from 'jose';
import { createRunKey } from '../runner/keys.ts';
import { type Alg, AUDIENCE, ISSUER, ourSigningKey, SUBJECT } from '../servers/http/setup.ts';
import { emit, type MicroTable, quick, type Throughput, thousands, throughput } from './common.ts';

const BATCH = 100;
const TIME_MS = quick ? 250 : 2000;

async function tasksFor(alg: Alg): Promise<(readonly [string, () => unknown])[]> {
  const { key, token } = await createRunKey(alg);
  const signingKey = await ourSigningKey(key);
  const keySet = createKeySet({ signingKey });
  const rules = { keySet, issuer: ISSUER, audience: AUDIENCE };
  const cached = createAccessTokenVerifier(rules);
  const uncached = createAccessTokenVerifier({ ...rules, cache: false });
  // jose at its fastest: the key imported once, as a CryptoKey.
  const joseKey =
    alg === 'HS256'
      ? await webcrypto.subtle.importKey(
          'raw',
          new TextEncoder().encode(key.secret as string),
          { name: 'HMAC', hash: 'SHA-256' },
          false,
          ['verify'],
        )
      : await importSPKI(key.publicPem as string, 'ES256');
  const joseOptions = {
    algorithms: [alg],
    issuer: ISSUER,
    audience: AUDIENCE,
    typ: 'at+jwt',
    requiredClaims: ['exp', 'iat', 'sub', 'jti'],
  };
  const fastOptions = {
    key: (alg === 'HS256' ? key.secret : key.publicPem) as string,
    algorithms: [alg],
    allowedIss: ISSUER,
    allowedAud: AUDIENCE,
    requiredClaims: ['exp', 'iat', 'sub', 'jti'],
  };
  const fastCached = createVerifier({ ...fastOptions, cache: true });
  const fastUncached = createVerifier({ ...fastOptions, cache: false });

  // Each must accept the token before it is timed.
  for (const verify of [
    () => cached.verify(token),
    () => uncached.verify(token),
    async () => (await jwtVerify(token, joseKey, joseOptions)).payload,
    () => fastCached(token),
    () => fastUncached(token),
  ]) {
    const claims = (await verify()) as { sub?: string };
    if (claims.sub !== SUBJECT) throw new Error(`${alg}: a verifier refused the token`);
  }
  return [
    [
      `@org/auth, cached`,
      async () => {
        for (let i = 0; i < BATCH; i++) await cached.verify(token);
      },
    ],
    [
      `fast-jwt, cached`,
      () => {
        for (let i = 0; i < BATCH; i++) fastCached(token);
      },
    ],
    [
      `@org/auth, no cache`,
      async () => {
        for (let i = 0; i < BATCH; i++) await uncached.verify(token);
      },
    ],
    [
      `jose jwtVerify alone`,
      async () => {
        for (let i = 0; i < BATCH; i++) await jwtVerify(token, joseKey, joseOptions);
      },
    ],
    [
      `fast-jwt, no cache`,
      () => {
        for (let i = 0; i < BATCH; i++) fastUncached(token);
      },
    ],
  ];
}

const rows: string[][] = [];
const notes: string[] = [];
for (const alg of ['HS256', 'ES256'] as const) {
  const results = await throughput(await tasksFor(alg), { timeMs: TIME_MS, batch: BATCH });
  const get = (name: string) => results.get(name) as Throughput;
  for (const [name, { opsPerSecond, rmePct }] of results) {
    rows.push([alg, name, thousands(opsPerSecond), `±${rmePct.toFixed(1)}%`]);
  }
  const cachedRatio = get('@org/auth, cached').opsPerSecond / get('fast-jwt, cached').opsPerSecond;
  const uncachedRatio =
    get('@org/auth, no cache').opsPerSecond / get('jose jwtVerify alone').opsPerSecond;
  notes.push(
    `${alg}: @org/auth cached / fast-jwt cached = **${cachedRatio.toFixed(2)}x** (target >= 2); @org/auth uncached / jose = **${uncachedRatio.toFixed(2)}x** (target >= 0.90)`,
  );
}
const tables: MicroTable[] = [
  {
    title: 'Token verification (the same access token, repeatedly)',
    header: ['alg', 'verifier', 'verifications/s', 'rme'],
    rows,
    notes,
  },
];
emit(tables);
