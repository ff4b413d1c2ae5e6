import { createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import {
  createAccessTokenVerifier,
  createKeySet,
  importSigningKey,
  type LocalAccessTokenVerifier,
  type SigningAlgorithm,
  TokenError,
} from '@org/auth';
import { beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../test/helpers.js';

/**
 * RFC 7515 2 (canonical base64url, RFC 4648 5) and RFC 7519 7.2 step 10 (UTF-8),
 * through the local verifier: each token here is signed over exactly the spelling it
 * carries, so only the encoding rule can refuse it.
 */

const ISSUER = 'https://api.example.test';
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const clock = manualClock();
const seconds = Math.floor(clock.now() / 1000);
const claims = (extra: Record<string, unknown> = {}) => ({
  iss: ISSUER,
  aud: 'api',
  sub: 'user-1',
  iat: seconds,
  exp: seconds + 600,
  jti: 'jti-1',
  ...extra,
});
const b64 = (bytes: string | Buffer) => Buffer.from(bytes).toString('base64url');

interface Signer {
  readonly alg: SigningAlgorithm;
  readonly kid: string;
  /** The base64url signature of `input` (RFC 7518 3.2-3.4, RFC 8037 3.1). */
  signature(input: string): string;
}

const signers = new Map<SigningAlgorithm, Signer>();
let verifier: LocalAccessTokenVerifier;

function asymmetric(alg: SigningAlgorithm, privateKey: KeyObject): Signer {
  const hash = alg === 'EdDSA' ? null : 'sha256';
  return {
    alg,
    kid: alg,
    signature: (input) =>
      sign(hash, Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString(
        'base64url',
      ),
  };
}

const signerOf = (alg: SigningAlgorithm) => signers.get(alg) as Signer;

/** A token over these exact header and payload segments. */
function tokenOf(alg: SigningAlgorithm, header: string, payload: string): string {
  const input = `${header}.${payload}`;
  return `${input}.${signerOf(alg).signature(input)}`;
}

const headerOf = (alg: SigningAlgorithm, extra: Record<string, unknown> = {}) =>
  b64(JSON.stringify({ alg, kid: signerOf(alg).kid, typ: 'at+jwt', ...extra }));

/** A valid token whose payload segment has `mod` characters past a multiple of 4. */
function tokenWithPayloadLength(alg: SigningAlgorithm, mod: number): string {
  for (let pad = ''; ; pad += 'x') {
    const payload = b64(JSON.stringify(claims({ pad })));
    if (payload.length % 4 === mod) return tokenOf(alg, headerOf(alg), payload);
  }
}

/** `segment` with its last character's pad bits (low 4 or 2 bits) set to `bits`. */
function withPadBits(segment: string, bits: number): string {
  const value = ALPHABET.indexOf(segment.at(-1) as string);
  const mask = segment.length % 4 === 2 ? 0x0f : 0x03;
  return segment.slice(0, -1) + (ALPHABET[(value & ~mask) | bits] as string);
}

async function rejection(token: string): Promise<unknown> {
  return verifier.verify(token).then(
    () => undefined,
    (error: unknown) => error,
  );
}

async function expectInvalid(token: string): Promise<void> {
  const error = await rejection(token);
  expect(error).toBeInstanceOf(TokenError);
  expect(error).toMatchObject({ code: 'ERR_TOKEN_INVALID' });
}

beforeAll(async () => {
  const es = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const ed = generateKeyPairSync('ed25519').privateKey;
  const rs = generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey;
  const secret = Buffer.alloc(32, 7);
  signers.set('ES256', asymmetric('ES256', es));
  signers.set('EdDSA', asymmetric('EdDSA', ed));
  signers.set('RS256', asymmetric('RS256', rs));
  signers.set('HS256', {
    alg: 'HS256',
    kid: 'HS256',
    signature: (input) => createHmac('sha256', secret).update(input).digest('base64url'),
  });
  const pem = (key: KeyObject) => key.export({ format: 'pem', type: 'pkcs8' }).toString();
  const keys = await Promise.all([
    importSigningKey({ pem: pem(es), kid: 'ES256' }),
    importSigningKey({ pem: pem(ed), kid: 'EdDSA' }),
    importSigningKey({ pem: pem(rs), kid: 'RS256' }),
    importSigningKey({ secret, kid: 'HS256' }),
  ]);
  const keySet = createKeySet({ verificationKeys: keys });
  verifier = createAccessTokenVerifier({ keySet, issuer: ISSUER, audience: 'api', clock });
});

describe('canonical base64url segments (RFC 7515 2, RFC 4648 5)', () => {
  it.each([
    ['RS256', 512],
    ['ES256', 86],
    ['EdDSA', 86],
    ['HS256', 43],
  ] as const)(
    'rejects a character appended to a %s signature of %i characters',
    async (alg, length) => {
      const token = tokenOf(alg, headerOf(alg), b64(JSON.stringify(claims())));
      expect(token.split('.')[2]).toHaveLength(length);
      await expect(verifier.verify(token)).resolves.toMatchObject({ sub: 'user-1' });
      // 512 + 1 is 1 mod 4: a lenient decoder drops the lone character and the RSA-3072 signature verifies.
      for (const extra of ['A', 'Q', 'g', '_']) await expectInvalid(`${token}${extra}`);
    },
  );

  it.each(['ES256', 'EdDSA', 'HS256'] as const)(
    'rejects every non-zero pad bit pattern at the end of a %s signature',
    async (alg) => {
      const token = tokenOf(alg, headerOf(alg), b64(JSON.stringify(claims())));
      const [header, payload, signature] = token.split('.') as [string, string, string];
      const patterns = signature.length % 4 === 2 ? 16 : 4;
      for (let bits = 1; bits < patterns; bits++) {
        await expectInvalid(`${header}.${payload}.${withPadBits(signature, bits)}`);
      }
      await expect(verifier.verify(token)).resolves.toBeDefined();
    },
  );

  it.each([2, 3])(
    'rejects pad bits in a header or payload of %i mod 4 characters, though signed as spelled',
    async (mod) => {
      const token = tokenWithPayloadLength('ES256', mod);
      await expect(verifier.verify(token)).resolves.toBeDefined();
      const [header, payload] = token.split('.') as [string, string];
      await expectInvalid(tokenOf('ES256', header, withPadBits(payload, 1)));
      for (let pad = ''; ; pad += 'x') {
        const h = headerOf('ES256', { pad });
        if (h.length % 4 !== mod) continue;
        await expect(verifier.verify(tokenOf('ES256', h, payload))).resolves.toBeDefined();
        await expectInvalid(tokenOf('ES256', withPadBits(h, 1), payload));
        break;
      }
    },
  );

  it('rejects segments of 1 mod 4 characters, padding and characters outside the alphabet', async () => {
    const token = tokenWithPayloadLength('HS256', 0);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    await expectInvalid(tokenOf('HS256', header, `${payload}A`));
    await expectInvalid(`${header}.${payload}.${signature}=`);
    for (const bad of ['+', '/', '=', ' ', '\t', '%', 'é']) {
      await expectInvalid(
        tokenOf('HS256', header, `${payload.slice(0, 4)}${bad}${payload.slice(5)}`),
      );
      await expectInvalid(
        `${header}.${payload}.${signature.slice(0, 8)}${bad}${signature.slice(8)}`,
      );
    }
  });
});

describe('UTF-8 header and payload (RFC 7519 7.2 step 10)', () => {
  /** JSON text with `bytes` inside the string value of a last member `name`. */
  const jsonWith = (value: Record<string, unknown>, bytes: number[]) =>
    Buffer.concat([
      Buffer.from(`${JSON.stringify(value).slice(0, -1)},"name":"`),
      Buffer.from(bytes),
      Buffer.from('"}'),
    ]);
  const payloadWith = (bytes: number[]) => b64(jsonWith(claims(), bytes));

  it('decodes multi-byte UTF-8 claims exactly', async () => {
    const name = 'Zoë 🎉 日本';
    const token = tokenOf('EdDSA', headerOf('EdDSA'), b64(JSON.stringify(claims({ name }))));
    await expect(verifier.verify(token)).resolves.toMatchObject({ name });
  });

  it.each([
    ['a lone continuation byte', [0x80]],
    ['0xFF', [0xff]],
    ['an overlong "/"', [0xc0, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a truncated sequence', [0xe2, 0x82]],
    ['a code point past U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ])('rejects %s in the payload or the header, never replaced by U+FFFD', async (_name, bytes) => {
    // The control: the same bytes as valid UTF-8 ("é") verify.
    await expect(
      verifier.verify(tokenOf('ES256', headerOf('ES256'), payloadWith([0xc3, 0xa9]))),
    ).resolves.toMatchObject({ name: 'é' });
    await expectInvalid(tokenOf('ES256', headerOf('ES256'), payloadWith(bytes)));
    const header = jsonWith({ alg: 'ES256', kid: 'ES256', typ: 'at+jwt' }, bytes);
    await expectInvalid(tokenOf('ES256', b64(header), b64(JSON.stringify(claims()))));
  });

  it('rejects a byte order mark before the JSON (RFC 8259 8.1)', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const payload = Buffer.concat([bom, Buffer.from(JSON.stringify(claims()))]);
    await expectInvalid(tokenOf('ES256', headerOf('ES256'), b64(payload)));
    const header = Buffer.concat([
      bom,
      Buffer.from(JSON.stringify({ alg: 'ES256', kid: 'ES256', typ: 'at+jwt' })),
    ]);
    await expectInvalid(tokenOf('ES256', b64(header), b64(JSON.stringify(claims()))));
  });
});
