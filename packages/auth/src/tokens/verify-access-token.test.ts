import { createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { ConfigurationError } from '@org/core';
import { type JWTHeaderParameters, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { importSigningKey } from '../keys/import-signing-key.js';
import { createKeySet, type KeySet } from '../keys/key-set.js';
import { generateSigningKey, type SigningKey } from '../keys/signing-key.js';
import { createAccessTokenSigner } from './sign-access-token.js';
import { TokenError } from './types.js';
import { createAccessTokenVerifier, type LocalAccessTokenVerifier } from './verify-access-token.js';

const ISSUER = 'https://api.example.test';
const AUDIENCE = 'api';
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/** A payload that would pass every claim check. */
const claims = (extra: Record<string, unknown> = {}) => ({
  iss: ISSUER,
  aud: AUDIENCE,
  sub: 'user-1',
  iat: now(),
  exp: now() + 600,
  jti: 'jti-1',
  roles: ['user'],
  ...extra,
});

let ourPrivate: KeyObject;
let ourPublic: KeyObject;
let ourKey: SigningKey;
let keySet: KeySet;
let verifier: LocalAccessTokenVerifier;
let valid: string;

/** Signs with our real private key: a token only a key leak could produce, to isolate one rule. */
const signOurs = (payload: Record<string, unknown>, header: Partial<JWTHeaderParameters> = {}) =>
  new SignJWT(payload)
    .setProtectedHeader({ alg: 'ES256', kid: ourKey.kid, typ: 'at+jwt', ...header })
    .sign(ourPrivate);

/** Signs any header with our key, bypassing jose's own checks on what it is asked to produce. */
const signRaw = (header: Record<string, unknown>, payload: unknown) => {
  const input = `${b64({ alg: 'ES256', kid: ourKey.kid, typ: 'at+jwt', ...header })}.${b64(payload)}`;
  const signature = sign('sha256', Buffer.from(input), {
    key: ourPrivate,
    dsaEncoding: 'ieee-p1363',
  });
  return `${input}.${signature.toString('base64url')}`;
};

const hs256 = (header: Record<string, unknown>, payload: unknown, secret: string | Buffer) => {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
};

async function expectRejected(token: unknown, code = 'ERR_TOKEN_INVALID') {
  const error = await verifier.verify(token as string).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TokenError);
  expect((error as TokenError).code).toBe(code);
  // Fixed, safe descriptions: never the token, never a parser message.
  expect((error as TokenError).description).toMatch(
    /^The access token (is invalid|has expired)\.$/,
  );
  if (typeof token === 'string' && token.length > 0) {
    expect((error as TokenError).message).not.toContain(token);
  }
}

beforeAll(async () => {
  ({ privateKey: ourPrivate, publicKey: ourPublic } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
  }));
  ourKey = await importSigningKey({
    pem: ourPrivate.export({ format: 'pem', type: 'pkcs8' }).toString(),
  });
  // An HS256 key in the same set puts HS256 in the allow-list: confusion must still fail.
  const hmacKey = await importSigningKey({ secret: 'x'.repeat(48), kid: 'hmac' });
  keySet = createKeySet({ signingKey: ourKey, verificationKeys: [hmacKey] });
  verifier = createAccessTokenVerifier({
    keySet,
    issuer: ISSUER,
    audience: AUDIENCE,
    cache: false,
  });
  const signer = createAccessTokenSigner({ keySet, issuer: ISSUER, audience: AUDIENCE });
  ({ token: valid } = await signer.sign({ subject: 'user-1', roles: ['user'] }));
});

describe('createAccessTokenVerifier', () => {
  it('accepts a token from the signer and returns its claims', async () => {
    const result = await verifier.verify(valid);
    expect(result).toMatchObject({ iss: ISSUER, aud: AUDIENCE, sub: 'user-1', roles: ['user'] });
    expect(Object.isFrozen(result)).toBe(true);
  });

  it.each(['none', 'None', 'NONE', 'nOnE'])(
    'rejects alg %s with and without a signature',
    async (alg) => {
      const unsigned = `${b64({ alg, typ: 'at+jwt', kid: ourKey.kid })}.${b64(claims())}`;
      await expectRejected(`${unsigned}.`);
      await expectRejected(`${unsigned}.${valid.split('.')[2]}`);
    },
  );

  it('rejects HS256 signed with our public key as PEM text, JWK JSON and DER bytes', async () => {
    const header = { alg: 'HS256', typ: 'at+jwt', kid: ourKey.kid };
    const pem = ourPublic.export({ format: 'pem', type: 'spki' }).toString();
    await expectRejected(hs256(header, claims(), pem));
    await expectRejected(hs256(header, claims(), pem.trim()));
    await expectRejected(hs256(header, claims(), JSON.stringify(ourKey.publicJwk)));
    await expectRejected(
      hs256(header, claims(), JSON.stringify(ourPublic.export({ format: 'jwk' }))),
    );
    await expectRejected(
      hs256(header, claims(), ourPublic.export({ format: 'der', type: 'spki' })),
    );
  });

  it.each(['ES384', 'ES512', 'es256', 'HS256', 'RS256', 'EdDSA'])(
    'rejects our ES256 token relabelled %s',
    async (alg) => {
      const [, payload, signature] = valid.split('.');
      await expectRejected(
        `${b64({ alg, typ: 'at+jwt', kid: ourKey.kid })}.${payload}.${signature}`,
      );
    },
  );

  it('rejects a tampered payload that keeps the signature, and a stripped signature', async () => {
    const [header, , signature] = valid.split('.');
    await expectRejected(`${header}.${b64(claims({ roles: ['admin'] }))}.${signature}`);
    const [h, p] = valid.split('.');
    await expectRejected(`${h}.${p}.`);
    await expectRejected(`${h}.${p}`);
  });

  it.each(['../../dev/null', "' OR '1'='1' --", 'unknown-kid', '', '__proto__', 'constructor'])(
    'rejects kid %j',
    async (kid) => {
      // The classic: HMAC with the empty "file" a path traversal would read.
      await expectRejected(hs256({ alg: 'HS256', typ: 'at+jwt', kid }, claims(), ''));
      const attacker = await generateSigningKey('ES256');
      const attackerPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      const forged = await new SignJWT(claims())
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
        .sign(attackerPem);
      await expectRejected(forged);
      expect(attacker.kid).not.toBe(kid);
    },
  );

  it('rejects an attacker key embedded in jwk or pointed to by jku / x5u / x5c', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const sign = (header: Record<string, unknown>) =>
      new SignJWT(claims())
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', ...header })
        .sign(privateKey);
    await expectRejected(await sign({ jwk }));
    await expectRejected(await sign({ jwk, kid: ourKey.kid }));
    await expectRejected(await sign({ jku: 'https://attacker.test/jwks.json', kid: 'a1' }));
    await expectRejected(await sign({ x5u: 'https://attacker.test/cert.pem', kid: ourKey.kid }));
    // Even with our own valid signature, a key hint in the header is refused.
    await expectRejected(await signOurs(claims(), { jku: 'https://attacker.test/jwks.json' }));
    await expectRejected(await signOurs(claims(), { x5c: ['MIIB'] }));
  });

  it('rejects an unknown crit extension, and crit at all, even when our key signed', async () => {
    await expect(verifier.verify(signRaw({}, claims()))).resolves.toBeDefined(); // the control
    await expectRejected(signRaw({ crit: ['urn:example:ext'], 'urn:example:ext': 1 }, claims()));
    await expectRejected(signRaw({ crit: ['exp'] }, claims()));
    await expectRejected(signRaw({ crit: ['b64'], b64: true }, claims()));
    await expectRejected(signRaw({ crit: [] }, claims()));
  });

  it('rejects expired (as EXPIRED), not yet valid, iat in the future and missing exp', async () => {
    await expectRejected(
      await signOurs(claims({ iat: now() - 3600, exp: now() - 60 })),
      'ERR_TOKEN_EXPIRED',
    );
    await expectRejected(await signOurs(claims({ nbf: now() + 120 })));
    await expectRejected(await signOurs(claims({ iat: now() + 120 })));
    const { exp: _exp, ...withoutExp } = claims();
    await expectRejected(await signOurs(withoutExp));
    for (const claim of ['iat', 'jti', 'sub', 'iss', 'aud']) {
      const rest: Record<string, unknown> = claims();
      delete rest[claim];
      await expectRejected(await signOurs(rest));
    }
  });

  it('allows 30 s of clock skew by default', async () => {
    await expect(
      verifier.verify(await signOurs(claims({ nbf: now() + 20, iat: now() + 20 }))),
    ).resolves.toBeDefined();
    await expect(
      verifier.verify(await signOurs(claims({ exp: now() - 20 }))),
    ).resolves.toBeDefined();
  });

  it('rejects a wrong aud, a wrong iss and iss as an array', async () => {
    await expectRejected(await signOurs(claims({ aud: 'other-api' })));
    await expectRejected(await signOurs(claims({ iss: 'https://evil.test' })));
    await expectRejected(await signOurs(claims({ iss: [ISSUER] })));
    await expectRejected(await signOurs(claims({ sub: 42 })));
    await expectRejected(await signOurs(claims({ roles: 'admin' })));
  });

  it('rejects a refresh-token-typed JWT, an ID token (typ JWT) and a token without typ', async () => {
    await expectRejected(await signOurs(claims(), { typ: 'rt+jwt' }));
    await expectRejected(await signOurs(claims(), { typ: 'refresh+jwt' }));
    await expectRejected(await signOurs(claims(), { typ: 'JWT' }));
    await expectRejected(signRaw({ typ: undefined }, claims()));
  });

  it('accepts typ as the full media type, in any case (RFC 9068 4, RFC 7515 4.1.9)', async () => {
    for (const typ of ['application/at+jwt', 'AT+JWT', 'Application/At+Jwt']) {
      await expect(verifier.verify(signRaw({ typ }, claims()))).resolves.toBeDefined();
    }
    await expectRejected(signRaw({ typ: 'application/jwt' }, claims()));
    await expectRejected(signRaw({ typ: ['at+jwt'] }, claims()));
  });

  it('verifies HS256 with the secret of its kid, and rejects a truncated or padded MAC', async () => {
    const secret = 'x'.repeat(48);
    const token = hs256({ alg: 'HS256', typ: 'at+jwt', kid: 'hmac' }, claims(), secret);
    await expect(verifier.verify(token)).resolves.toMatchObject({ sub: 'user-1' });
    await expectRejected(token.slice(0, -2));
    await expectRejected(`${token}AA`);
    await expectRejected(`${token}=`);
    await expectRejected(
      hs256({ alg: 'HS256', typ: 'at+jwt', kid: 'hmac' }, claims(), 'y'.repeat(48)),
    );
    // Our ES256 key's kid with an HS256 header: the key decides, not the header.
    await expectRejected(hs256({ alg: 'HS256', typ: 'at+jwt', kid: ourKey.kid }, claims(), secret));
  });

  it('verifies R || S of every shape: leading zero bytes and high bits in R and S', async () => {
    const shapes = new Set<string>();
    for (let i = 0; i < 1500; i++) {
      const token = signRaw({}, claims({ jti: `jti-${i}` }));
      const signature = Buffer.from(token.split('.')[2] as string, 'base64url');
      for (const half of [signature.subarray(0, 32), signature.subarray(32)]) {
        shapes.add(
          (half[0] as number) === 0 ? 'zero' : (half[0] as number) >= 0x80 ? 'high' : 'low',
        );
      }
      await expect(verifier.verify(token)).resolves.toBeDefined();
    }
    // 1500 random signatures hold all three shapes with overwhelming probability (1 - 1e-5).
    expect(shapes).toEqual(new Set(['zero', 'high', 'low']));
  });

  it('rejects a DER-encoded ECDSA signature and signatures with non-base64url characters', async () => {
    const [header, payload, signature] = valid.split('.');
    const der = sign('sha256', Buffer.from(`${header}.${payload}`), ourPrivate).toString(
      'base64url',
    );
    await expectRejected(`${header}.${payload}.${der}`);
    const standard = Buffer.from(signature as string, 'base64url').toString('base64');
    await expectRejected(`${header}.${payload}.${standard}`);
    await expectRejected(`${header}.${payload}.${signature} `);
  });

  it('rejects a header or a payload that is not a JSON object, even when our key signed', async () => {
    const input = (h: string, p: string) => {
      const text = `${Buffer.from(h).toString('base64url')}.${Buffer.from(p).toString('base64url')}`;
      const mac = sign('sha256', Buffer.from(text), { key: ourPrivate, dsaEncoding: 'ieee-p1363' });
      return `${text}.${mac.toString('base64url')}`;
    };
    const header = JSON.stringify({ alg: 'ES256', kid: ourKey.kid, typ: 'at+jwt' });
    await expect(verifier.verify(input(header, JSON.stringify(claims())))).resolves.toBeDefined();
    for (const bad of ['[]', '"ES256"', 'null', '{', `[${header}]`]) {
      await expectRejected(input(bad, JSON.stringify(claims())));
    }
    for (const bad of ['[]', '"claims"', '42', 'null', '{"iss":']) {
      await expectRejected(input(header, bad));
    }
    await expectRejected(signRaw({}, claims({ nbf: 'yesterday' })));
    await expectRejected(signRaw({}, claims({ exp: String(now() + 600) })));
    await expectRejected(signRaw({}, claims({ aud: [42] })));
  });

  it('refuses a missing issuer or audience at start-up, naming the option', () => {
    const make = (options: Record<string, unknown>) => () =>
      createAccessTokenVerifier({ keySet, issuer: ISSUER, audience: AUDIENCE, ...options });
    expect(make({ audience: undefined })).toThrow(ConfigurationError);
    expect(make({ audience: undefined })).toThrow(/^audience must be a non-empty string/);
    expect(make({ audience: ['api', ''] })).toThrow(/^audience/);
    expect(make({ issuer: undefined })).toThrow(/^issuer must be a non-empty string/);
    expect(make({ keySet: undefined })).toThrow(/^keySet/);
  });

  it('rejects a five-part JWE-shaped token, garbage, non-strings and a 16 KiB token', async () => {
    await expectRejected(
      `${b64({ alg: 'dir', enc: 'A256GCM', kid: ourKey.kid })}.${'.'.repeat(3)}AAAA`,
    );
    await expectRejected('eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d');
    for (const garbage of ['', 'garbage', '...', 'a.b.c', '%%%.%%%.%%%', 'Bearer x', '\u0000']) {
      await expectRejected(garbage);
    }
    await expectRejected(undefined);
    await expectRejected(42);
    await expectRejected(await signOurs(claims({ padding: 'x'.repeat(16 * 1024) })));
  });
});
