// The key material and access token of one run: generated once, handed to every server
// through BENCH_SETUP, and the token sent by wrk on every request.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createAccessTokenSigner, createKeySet } from '@org/auth';
import {
  type Alg,
  AUDIENCE,
  ISSUER,
  type KeyMaterial,
  ourSigningKey,
  ROLE,
  SUBJECT,
} from '../servers/http/setup.ts';

/** A key and a valid access token (`typ: at+jwt`, roles: ['user']) signed with it. */
export interface RunKey {
  readonly key: KeyMaterial;
  readonly token: string;
}

/** Generates a key of `alg` and signs a token valid for `lifetimeSeconds`. */
export async function createRunKey(alg: Alg, lifetimeSeconds = 4 * 3600): Promise<RunKey> {
  let key: KeyMaterial;
  if (alg === 'HS256') {
    key = { alg, secret: randomBytes(32).toString('base64url') };
  } else {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    key = {
      alg,
      privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
  }
  const signingKey = await ourSigningKey(key);
  const signer = createAccessTokenSigner({
    keySet: createKeySet({ signingKey }),
    issuer: ISSUER,
    audience: AUDIENCE,
    expiresIn: lifetimeSeconds,
  });
  const { token } = await signer.sign({ subject: SUBJECT, roles: [ROLE] });
  return { key, token };
}
