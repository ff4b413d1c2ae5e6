import { randomBytes, randomUUID } from 'node:crypto';
import type { JWK } from 'jose';
import * as base64url from 'jose/base64url';
import { exportSPKI } from 'jose/key/export';
import { importJWK } from 'jose/key/import';
import { assemble, decodeCompact, hmacSign, segment, sign } from '../internal/jws.js';
import type { Forgery } from './forgery-names.js';
import { createRefreshTokenString } from './refresh-token.js';
import { createTestKey, type TestKey, type TestKeyAlgorithm } from './test-key.js';

/**
 * A public key as a JWKS publishes it (RFC 7517 4). Declared here rather than taken from
 * jose, whose ESM-only types a CommonJS project under `"module": "node16"` cannot import.
 */
export interface PublicJwk {
  /** Key type: `EC`, `OKP` or `RSA`. */
  readonly kty: string;
  /** Key id. */
  readonly kid?: string;
  /** Algorithm. */
  readonly alg?: string;
  /** The key members (`crv`, `x`, `y`, `n`, `e`...) and `use`. */
  readonly [member: string]: unknown;
}

/** Options of {@link deriveForgeries}. */
export interface DeriveForgeriesOptions {
  /** The app's public keys (its JWKS `keys`), for the HS256 key-confusion attacks. @default [] (those attacks are left out) */
  publicKeys?: readonly PublicJwk[];
  /** The attacker's key. @default a fresh key of the token's algorithm (ES256 when it is not one of ours) */
  attackerKey?: TestKey;
  /** Characters of the oversize token: past the verifier's 8 KiB cap, under Node's 16 KiB header limit. @default 10240 */
  oversizeLength?: number;
  /** A refresh token to present as an access token. @default a random refresh-token-shaped string */
  refreshToken?: string;
}

/** Algorithms a naive verifier could be talked into from the real one (RFC 8725 2.1). */
const RELABEL: Readonly<Record<string, readonly string[]>> = {
  ES256: ['ES384', 'ES512'],
  RS256: ['RS384', 'RS512', 'PS256'],
  EdDSA: ['Ed25519', 'ES256'],
  Ed25519: ['EdDSA'],
  HS256: ['HS384', 'HS512'],
};
const ATTACKER_URL = 'https://attacker.example';
const OURS: readonly string[] = ['ES256', 'EdDSA', 'RS256', 'HS256'];

async function publicKeyForms(
  jwk: PublicJwk,
): Promise<{ pem: string; json: string; der: Uint8Array }> {
  const alg = typeof jwk.alg === 'string' ? jwk.alg : jwk.kty === 'OKP' ? 'EdDSA' : 'ES256';
  const pem = await exportSPKI(
    (await importJWK(jwk as JWK, alg, { extractable: true })) as CryptoKey,
  );
  const der = Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
  return { pem, json: JSON.stringify(jwk), der: new Uint8Array(der) };
}

/**
 * Forges tokens from one valid access token and the app's public keys, as an
 * attacker who has seen a token and the JWKS could: `alg: none` in three cases,
 * relabelled algorithms, a tampered payload, a stripped signature, HS256 signed
 * with the public key (PEM, JWK JSON, DER), `kid` injection, foreign and embedded
 * keys (`jwk`, `jku`, `x5u`), JWE-shaped and oversize tokens, and a refresh token.
 *
 * @example
 * ```ts
 * const login = await api.post('/api/v1/auth/login', { json: credentials });
 * const jwks = await api.get('/.well-known/jwks.json');
 * for (const forgery of await deriveForgeries(login.body.access_token, { publicKeys: jwks.body.keys }))
 *   expect((await api.get('/api/v1/users/me', { headers: bearer(forgery.token) })).status).toBe(401);
 * ```
 */
export async function deriveForgeries(
  validToken: string,
  options: DeriveForgeriesOptions = {},
): Promise<Forgery[]> {
  const { header, payload, headerSegment, payloadSegment, signature } = decodeCompact(validToken);
  const alg = String(header.alg);
  const kid = typeof header.kid === 'string' ? header.kid : undefined;
  const attacker =
    options.attackerKey ??
    (await createTestKey({
      alg: OURS.includes(alg) ? (alg as TestKeyAlgorithm) : 'ES256',
      kid: `attacker-${randomUUID()}`,
    }));
  const typ = header.typ === undefined ? {} : { typ: header.typ };
  // The real subject, escalated: a forgery that got through would answer 200, not 401.
  const escalated = { ...payload, roles: ['admin'], scope: 'admin' };
  const byAttacker = (extra: Record<string, unknown>) =>
    sign({ alg: attacker.alg, ...typ, ...extra }, escalated, attacker.signingKey);
  const out: Forgery[] = [];
  const add = (name: Forgery['name'], description: string, token: string) =>
    out.push({ name, description, token });

  for (const none of ['none', 'None', 'NONE'] as const) {
    add(
      `alg-${none}`,
      `alg "${none}", no signature (RFC 8725 3.1)`,
      assemble({ ...header, alg: none }, escalated),
    );
    add(
      `alg-${none}-signed`,
      `alg "${none}", the original signature kept (RFC 8725 3.1)`,
      assemble({ ...header, alg: none }, payloadSegment, signature),
    );
  }
  add(
    'alg-lowercase',
    `alg "${alg.toLowerCase()}": alg is case-sensitive (RFC 7515 4.1.1)`,
    assemble({ ...header, alg: alg.toLowerCase() }, payloadSegment, signature),
  );
  for (const other of RELABEL[alg] ?? []) {
    add(
      `alg-relabelled-${other}`,
      `${alg} signature relabelled ${other} (RFC 8725 3.1)`,
      assemble({ ...header, alg: other }, payloadSegment, signature),
    );
  }
  add(
    'tampered-payload',
    'payload changed to roles ["admin"], signature kept (RFC 7515 5.2)',
    `${headerSegment}.${segment(escalated)}.${signature}`,
  );
  add(
    'stripped-signature',
    'signature removed, header kept (RFC 7515 5.2)',
    `${headerSegment}.${payloadSegment}.`,
  );
  add('two-part', 'signature segment missing altogether', `${headerSegment}.${payloadSegment}`);

  const target = options.publicKeys?.find((jwk) => jwk.kid === kid) ?? options.publicKeys?.[0];
  if (target !== undefined) {
    const forms = await publicKeyForms(target);
    const confused = { ...header, alg: 'HS256', kid: target.kid ?? kid };
    add(
      'hs256-public-key-pem',
      'HS256 keyed with the public key PEM text (RFC 8725 2.1)',
      hmacSign(confused, escalated, forms.pem),
    );
    add(
      'hs256-public-key-jwk',
      'HS256 keyed with the public JWK JSON (RFC 8725 2.1)',
      hmacSign(confused, escalated, forms.json),
    );
    add(
      'hs256-public-key-der',
      'HS256 keyed with the public key DER bytes (RFC 8725 2.1)',
      hmacSign(confused, escalated, forms.der),
    );
  }
  add(
    'kid-path-traversal',
    'kid "../../dev/null", HS256 with an empty key (RFC 8725 3.10)',
    hmacSign({ ...typ, kid: '../../../../../../dev/null' }, escalated, ''),
  );
  add(
    'kid-sql-injection',
    "kid with SQL that would select the attacker's secret (RFC 8725 3.10)",
    hmacSign(
      { ...typ, kid: "x' UNION SELECT 'attacker-secret' -- " },
      escalated,
      'attacker-secret',
    ),
  );
  add(
    'unknown-kid',
    'signed by an attacker key under an unknown kid',
    await byAttacker({ kid: attacker.kid }),
  );
  if (kid !== undefined) {
    add('foreign-key', 'signed by an attacker key under the real kid', await byAttacker({ kid }));
  }
  add(
    'embedded-jwk',
    "the attacker's public key embedded in the jwk header (RFC 8725 3.10)",
    await byAttacker({ kid: attacker.kid, jwk: attacker.publicJwk ?? { kty: 'oct' } }),
  );
  add(
    'jku',
    'jku points at an attacker JWKS (RFC 8725 3.10)',
    await byAttacker({ kid: attacker.kid, jku: `${ATTACKER_URL}/jwks.json` }),
  );
  add(
    'x5u',
    'x5u points at an attacker certificate (RFC 8725 3.10)',
    await byAttacker({ kid: attacker.kid, x5u: `${ATTACKER_URL}/cert.pem` }),
  );
  const noise = () => base64url.encode(randomBytes(24));
  add(
    'jwe-shaped',
    'five-part JWE where a JWS is expected (RFC 7516 7.1)',
    `${segment({ alg: 'RSA-OAEP-256', enc: 'A256GCM', ...(kid === undefined ? {} : { kid }) })}.${noise()}.${noise()}.${noise()}.${noise()}`,
  );
  add('garbage', 'not a token at all', 'not-a-token');
  const length = options.oversizeLength ?? 10_240;
  const pad = Math.max(0, length - validToken.length);
  add(
    'oversize',
    `${length} characters: past the verifier's length cap`,
    assemble(
      { ...header, 'x-pad': 'A'.repeat(Math.ceil((pad * 3) / 4)) },
      payloadSegment,
      signature,
    ),
  );
  add(
    'refresh-token-as-access',
    'a refresh token sent as an access token (RFC 9068 2.1)',
    options.refreshToken ?? createRefreshTokenString(),
  );
  return out;
}
