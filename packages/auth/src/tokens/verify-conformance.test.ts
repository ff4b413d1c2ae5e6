import { createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import {
  type AccessTokenVerifier,
  createAccessTokenVerifier,
  createKeySet,
  createRemoteJwksVerifier,
  importSigningKey,
  TokenError,
} from '@org/auth';
import fc from 'fast-check';
import { importJWK, type JWK, jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../test/helpers.js';

/**
 * Our verifiers against jose's `jwtVerify` on generated tokens: valid ones, and each
 * class of mutation below. For every input ours accepts exactly when jose does,
 * except in the classes marked `stricter`, where ours must reject and the reason
 * says why jose may not (on Node 24 jose decodes base64url with `atob`, which ignores
 * pad bits, whitespace and `=`).
 */

const ISSUER = 'https://issuer.example.test';
const AUDIENCE = 'api';
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const RUNS = 10;
const clock = manualClock();
const b64 = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/** One algorithm behind one of our verifiers, with the same key imported into jose. */
interface Target {
  readonly name: string;
  readonly alg: string;
  readonly kid: string;
  /** The base64url signature of a signing input, made with node:crypto. */
  readonly sign: (input: string) => string;
  readonly ours: AccessTokenVerifier;
  readonly joseKey: CryptoKey | Uint8Array;
}

/** A valid token, in parts. */
interface Valid {
  readonly header: string;
  readonly payload: string;
  readonly signature: string;
  readonly claims: Record<string, unknown>;
}

/** Turns a valid token into the input under test; undefined when it does not apply. */
type Apply = (valid: Valid, target: Target, other: Valid) => string | undefined;

interface Mutation {
  readonly name: string;
  /** Why ours rejects where jose may accept; absent when the two must agree. */
  readonly stricter?: string;
  readonly apply: fc.Arbitrary<Apply>;
}

const targets: Target[] = [];

function signed(target: Target, header: string, payload: string): string {
  return `${header}.${payload}.${target.sign(`${header}.${payload}`)}`;
}

function headerOf(target: Target, typ = 'at+jwt'): string {
  return b64(JSON.stringify({ alg: target.alg, kid: target.kid, typ }));
}

/** `segment` with non-zero pad bits, or undefined when its length leaves none. */
function withPadBits(segment: string, bits: number): string | undefined {
  const mask = [0, 0, 0x0f, 0x03][segment.length % 4] as number;
  if (mask === 0) return undefined;
  const value = ALPHABET.indexOf(segment.at(-1) as string);
  return segment.slice(0, -1) + (ALPHABET[(value & ~mask) | (bits & mask || 1)] as string);
}

/** JSON text whose last string member holds `bytes` as they are. */
function jsonWithBytes(value: Record<string, unknown>, bytes: readonly number[]): Buffer {
  const text = JSON.stringify(value);
  return Buffer.concat([
    Buffer.from(`${text.slice(0, -1)},"x":"`),
    Buffer.from(bytes),
    Buffer.from('"}'),
  ]);
}

const INVALID_UTF8: readonly (readonly number[])[] = [
  [0x80],
  [0xff],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xe2, 0x82],
  [0xf4, 0x90, 0x80, 0x80],
];

const segmentIndex = fc.integer({ min: 0, max: 2 });
const position = fc.nat();
const pick = (parts: string[], index: number, edit: (segment: string) => string) =>
  parts.map((part, i) => (i === index ? edit(part) : part)).join('.');
const insertAt = (segment: string, at: number, text: string) => {
  const i = at % (segment.length + 1);
  return `${segment.slice(0, i)}${text}${segment.slice(i)}`;
};
const partsOf = (v: Valid) => [v.header, v.payload, v.signature];

const mutations: Mutation[] = [
  {
    name: 'none (a valid token)',
    apply: fc.constant((v) => partsOf(v).join('.')),
  },
  {
    name: 'append char to signature',
    apply: fc.constantFrom(...ALPHABET).map((c) => (v) => `${partsOf(v).join('.')}${c}`),
  },
  {
    name: 'append char to header or payload',
    apply: fc.tuple(fc.integer({ min: 0, max: 1 }), fc.constantFrom(...ALPHABET)).map(
      ([index, c]) =>
        (v) =>
          pick(partsOf(v), index, (s) => `${s}${c}`),
    ),
  },
  {
    name: 'segment of 1 mod 4 characters, re-signed',
    apply: fc.constantFrom(...ALPHABET).map((c) => (v, target) => {
      const payload = v.payload.length % 4 === 0 ? `${v.payload}${c}` : undefined;
      return payload === undefined ? undefined : signed(target, v.header, payload);
    }),
  },
  {
    name: 'flip padding bits in signature',
    stricter: 'RFC 7515 2, RFC 4648 3.5: pad bits must be zero; atob ignores them',
    apply: fc.integer({ min: 1, max: 15 }).map((bits) => (v) => {
      const signature = withPadBits(v.signature, bits);
      return signature && `${v.header}.${v.payload}.${signature}`;
    }),
  },
  {
    name: 'flip padding bits in header or payload, re-signed',
    stricter: 'RFC 7515 2, RFC 4648 3.5: pad bits must be zero; atob ignores them',
    apply: fc
      .tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 1, max: 15 }))
      .map(([index, bits]) => (v, target) => {
        const header = index === 0 ? withPadBits(v.header, bits) : v.header;
        const payload = index === 1 ? withPadBits(v.payload, bits) : v.payload;
        return header && payload && signed(target, header, payload);
      }),
  },
  {
    name: 'non-alphabet char',
    apply: fc
      .tuple(segmentIndex, position, fc.constantFrom('+', '/', '%', '*', '!', '~', '$', 'é', '\0'))
      .map(
        ([index, at, c]) =>
          (v) =>
            pick(partsOf(v), index, (s) => insertAt(s, at, c)),
      ),
  },
  {
    name: 'whitespace in signature',
    stricter: 'RFC 7515 7.1: no whitespace in a compact JWS; atob strips it',
    apply: fc.tuple(position, fc.constantFrom(' ', '\t', '\n', '\r', '\f')).map(
      ([at, c]) =>
        (v) =>
          pick(partsOf(v), 2, (s) => insertAt(s, at, c)),
    ),
  },
  {
    name: '"=" padding on signature',
    stricter: 'RFC 7515 2: base64url without padding; atob accepts it',
    apply: fc.constant((v) => {
      const missing = (4 - (v.signature.length % 4)) % 4;
      return missing === 0 ? undefined : `${partsOf(v).join('.')}${'='.repeat(missing)}`;
    }),
  },
  {
    name: 'invalid utf-8 in payload or header, re-signed',
    apply: fc
      .tuple(fc.integer({ min: 0, max: 1 }), fc.constantFrom(...INVALID_UTF8))
      .map(([index, bytes]) => (v, target) => {
        const header = JSON.parse(Buffer.from(v.header, 'base64url').toString()) as object;
        return index === 0
          ? signed(target, b64(jsonWithBytes({ ...header }, bytes)), v.payload)
          : signed(target, v.header, b64(jsonWithBytes(v.claims, bytes)));
      }),
  },
  {
    name: 'byte order mark before payload or header, re-signed',
    stricter: 'RFC 8259 8.1: a BOM is not part of JSON text; jose TextDecoder drops it',
    apply: fc.integer({ min: 0, max: 1 }).map((index) => (v, target) => {
      const bom = (segment: string) =>
        b64(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(segment, 'base64url')]));
      return index === 0
        ? signed(target, bom(v.header), v.payload)
        : signed(target, v.header, bom(v.payload));
    }),
  },
  {
    name: 'alg none',
    apply: fc.boolean().map((keepSignature) => (v, target) => {
      const header = b64(JSON.stringify({ alg: 'none', kid: target.kid, typ: 'at+jwt' }));
      return `${header}.${v.payload}.${keepSignature ? v.signature : ''}`;
    }),
  },
  {
    name: 'swap header',
    apply: fc.constant((v, _target, other) => `${other.header}.${v.payload}.${v.signature}`),
  },
  {
    name: 'truncate segment',
    apply: fc.tuple(segmentIndex, fc.integer({ min: 1, max: 8 })).map(
      ([index, cut]) =>
        (v) =>
          pick(partsOf(v), index, (s) => s.slice(0, -cut)),
    ),
  },
  {
    name: 'extra or missing segment',
    apply: fc
      .constantFrom('extra', 'empty extra', 'missing')
      .map(
        (kind) => (v) =>
          kind === 'missing'
            ? `${v.header}.${v.payload}`
            : `${partsOf(v).join('.')}.${kind === 'extra' ? v.signature : ''}`,
      ),
  },
  {
    name: 'tamper one payload byte',
    apply: fc.tuple(position, fc.integer({ min: 1, max: 255 })).map(([at, xor]) => (v) => {
      const bytes = Buffer.from(v.payload, 'base64url');
      const i = at % bytes.length;
      bytes[i] = (bytes[i] as number) ^ xor;
      return `${v.header}.${b64(bytes)}.${v.signature}`;
    }),
  },
];

const claimsArbitrary = fc.record({
  sub: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 16 }),
  jti: fc.uuid(),
  roles: fc.array(fc.string({ unit: 'grapheme-ascii', maxLength: 8 }), { maxLength: 3 }),
  note: fc.string({ unit: 'binary', maxLength: 24 }),
  lifetime: fc.integer({ min: 60, max: 3600 }),
  typ: fc.constantFrom('at+jwt', 'application/at+jwt'),
});

type GeneratedClaims = typeof claimsArbitrary extends fc.Arbitrary<infer T> ? T : never;

function validToken(target: Target, generated: GeneratedClaims): Valid {
  const iat = Math.floor(clock.now() / 1000);
  const { lifetime, typ, ...rest } = generated;
  const claims = { ...rest, iss: ISSUER, aud: AUDIENCE, iat, exp: iat + lifetime };
  const header = headerOf(target, typ);
  const payload = b64(JSON.stringify(claims));
  const signature = target.sign(`${header}.${payload}`);
  return { header, payload, signature, claims };
}

async function oursAccepts(target: Target, token: string): Promise<boolean> {
  try {
    await target.ours.verify(token);
    return true;
  } catch (error) {
    // Every refusal is the invalid-token path, never a crash or a 503.
    expect(error).toBeInstanceOf(TokenError);
    expect(error).toMatchObject({ code: 'ERR_TOKEN_INVALID' });
    return false;
  }
}

async function joseAccepts(target: Target, token: string): Promise<boolean> {
  try {
    await jwtVerify(token, target.joseKey, {
      algorithms: [target.alg],
      issuer: ISSUER,
      audience: AUDIENCE,
      typ: 'at+jwt',
      requiredClaims: ['exp', 'iat', 'sub', 'jti'],
      currentDate: new Date(clock.now()),
      clockTolerance: 30,
    });
    return true;
  } catch {
    return false;
  }
}

function nodeSigner(hash: string | null, key: KeyObject): (input: string) => string {
  return (input) =>
    sign(hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
}

beforeAll(async () => {
  const secret = Buffer.alloc(32, 0x5a);
  const pairs = {
    ES256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    ES384: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
    ES512: generateKeyPairSync('ec', { namedCurve: 'P-521' }),
    RS256: generateKeyPairSync('rsa', { modulusLength: 3072 }),
    EdDSA: generateKeyPairSync('ed25519'),
  };
  const hashes = {
    ES256: 'sha256',
    ES384: 'sha384',
    ES512: 'sha512',
    RS256: 'sha256',
    EdDSA: null,
  };
  const publicJwk = (alg: keyof typeof pairs): JWK => ({
    ...pairs[alg].publicKey.export({ format: 'jwk' }),
    kid: alg,
    alg,
    use: 'sig',
  });

  // Ours, local: the algorithms a key set holds.
  const localKeys = await Promise.all([
    importSigningKey({ secret, kid: 'HS256' }),
    ...(['ES256', 'EdDSA', 'RS256'] as const).map((alg) =>
      importSigningKey({
        pem: pairs[alg].privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        kid: alg,
      }),
    ),
  ]);
  const local = createAccessTokenVerifier({
    keySet: createKeySet({ verificationKeys: localKeys }),
    issuer: ISSUER,
    audience: AUDIENCE,
    clock,
    cache: false,
  });
  // Ours, remote: every asymmetric algorithm, from an in-process JWKS.
  const algs = Object.keys(pairs) as (keyof typeof pairs)[];
  const jwks = JSON.stringify({ keys: algs.map(publicJwk) });
  const remote = createRemoteJwksVerifier({
    issuers: [{ issuer: ISSUER, jwksUri: 'https://issuer.example.test/jwks', algorithms: algs }],
    audience: AUDIENCE,
    clock,
    cache: false,
    fetch: async () => new Response(jwks),
  });

  targets.push({
    name: 'HS256 (local)',
    alg: 'HS256',
    kid: 'HS256',
    sign: (input) => createHmac('sha256', secret).update(input).digest('base64url'),
    ours: local,
    joseKey: new Uint8Array(secret),
  });
  for (const alg of algs) {
    const joseKey = (await importJWK(publicJwk(alg), alg)) as CryptoKey;
    const base = { alg, kid: alg, sign: nodeSigner(hashes[alg], pairs[alg].privateKey), joseKey };
    if (alg !== 'ES384' && alg !== 'ES512')
      targets.push({ ...base, name: `${alg} (local)`, ours: local });
    targets.push({ ...base, name: `${alg} (remote)`, ours: remote });
  }
});

describe.each(mutations)('conformance with jose: $name', (mutation) => {
  it(
    mutation.stricter === undefined
      ? 'ours accepts exactly when jose accepts'
      : `ours rejects: ${mutation.stricter}`,
    async () => {
      const input = fc.record({
        claims: claimsArbitrary,
        apply: mutation.apply,
        other: fc.nat(),
      });
      await fc.assert(
        fc.asyncProperty(input, async ({ claims, apply, other }) => {
          for (const target of targets) {
            const valid = validToken(target, claims);
            const swap = targets[other % targets.length] as Target;
            const token = apply(valid, target, validToken(swap, claims));
            if (token === undefined) continue;
            const ours = await oursAccepts(target, token);
            const reason = `${target.name}: ${JSON.stringify(token)}`;
            if (mutation.stricter === undefined) {
              expect(ours, reason).toBe(await joseAccepts(target, token));
            } else {
              expect(ours, reason).toBe(false);
            }
          }
        }),
        { numRuns: RUNS },
      );
    },
  );
});
