/**
 * The verification every access-token verifier shares: a compact JWS checked with
 * node:crypto against a key from a resolver, the claim rules of RFC 7519, RFC 8725 and
 * RFC 9068, and one mapping of every failure to a {@link TokenError} with a fixed
 * description.
 *
 * Written here rather than with jose's `jwtVerify` because jose verifies through Web
 * Crypto, whose every call is a promise and, for HMAC, costs several times
 * node:crypto's synchronous `createHmac`. Signing stays with jose.
 */

import {
  constants,
  createHmac,
  type KeyObject,
  timingSafeEqual,
  verify as verifySignature,
} from 'node:crypto';
import { ConfigurationError } from '@org/core';
import { integerInRange } from '@org/core/adapter';
import { decodeJwt } from 'jose/jwt/decode';
import { type AccessTokenClaims, TokenError } from '../tokens/types.js';
import { isCanonicalBase64url, parseJsonSegment } from './jws-segments.js';

export const INVALID_DESCRIPTION = 'The access token is invalid.';
export const EXPIRED_DESCRIPTION = 'The access token has expired.';

/** RFC 8725 3.10, RFC 7515 4.1.2-4.1.6: header members that would let the token pick its own key. */
const KEY_HINTS = ['jku', 'jwk', 'x5u', 'x5c'] as const;

/** RFC 7515 7.1: three base64url segments; a JWE (five) or an unsigned JWS (empty signature) fails here. */
const COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]+$/;

/** The protected header of a token, as parsed; only `alg` is known to be a string. */
export interface JwsHeader {
  readonly alg: string;
  readonly kid?: unknown;
  readonly typ?: unknown;
  readonly [member: string]: unknown;
}

/** The checks of one verifier, fixed when it was created. */
export interface JwtRules {
  /** Issuers accepted; compared exactly. */
  readonly issuer: string | readonly string[];
  /** Audiences accepted; the token's `aud` must contain one. */
  readonly audience: string | readonly string[];
  /** Required `typ` (RFC 9068 2.1), normalized with {@link normalizeTyp}, or undefined to skip the check. */
  readonly typ: string | undefined;
  /** Seconds of leeway for `exp`, `nbf` and `iat`. */
  readonly clockTolerance: number;
  /** Longest accepted token, in characters. */
  readonly maxTokenLength: number;
}

/** Finds the key for a header whose `alg` is on the allow-list, or throws. */
export type KeyResolver = (header: JwsHeader) => KeyObject | Promise<KeyObject>;

/** Validates the numeric options every verifier takes; the messages name the option. */
export function checkLimits(clockTolerance: number, maxTokenLength: number): void {
  if (!Number.isFinite(clockTolerance) || clockTolerance < 0 || clockTolerance > 300) {
    throw new ConfigurationError(
      `clockTolerance must be between 0 and 300 seconds; received ${String(clockTolerance)}.`,
    );
  }
  integerInRange('verifier', 'maxTokenLength', maxTokenLength, {
    min: 256,
    max: Number.MAX_SAFE_INTEGER,
    fallback: maxTokenLength,
  });
}

/**
 * RFC 7515 4.1.9 and RFC 9068 4: `typ` is a media type, compared case-insensitively,
 * and `application/at+jwt` is `at+jwt`.
 */
export function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

/** A rejected token. The cause keeps a short reason for logs; never the token. */
export function invalidToken(reason: string): TokenError {
  return new TokenError('ERR_TOKEN_INVALID', INVALID_DESCRIPTION, { cause: new Error(reason) });
}

/**
 * The entry of `byIssuer` for the token's `iss`, read without trusting the token: the
 * configured list decides before any request, so a token never chooses what is fetched.
 * @throws `ERR_TOKEN_INVALID` for a non-JWT, an oversized token or an issuer not listed.
 */
export function trustedIssuerOf<T>(
  token: unknown,
  maxTokenLength: number,
  byIssuer: ReadonlyMap<string, T>,
): T {
  if (typeof token !== 'string' || token.length > maxTokenLength) {
    throw invalidToken('not a string, or longer than maxTokenLength');
  }
  let iss: unknown;
  try {
    ({ iss } = decodeJwt(token));
  } catch {
    throw invalidToken('not a JWT');
  }
  const trusted = typeof iss === 'string' ? byIssuer.get(iss) : undefined;
  if (trusted === undefined) throw invalidToken('issuer not allowed');
  return trusted;
}

function expiredToken(): TokenError {
  return new TokenError('ERR_TOKEN_EXPIRED', EXPIRED_DESCRIPTION, {
    cause: new Error('"exp" is in the past'),
  });
}

/** How each JWS algorithm verifies (RFC 7518 3.1, RFC 8037 3.1) and which keys fit it. */
interface AlgorithmSpec {
  readonly kind: 'hmac' | 'ecdsa' | 'eddsa' | 'rsa' | 'pss';
  /** node:crypto digest; null for Ed25519, which hashes internally. */
  readonly hash: string | null;
  /** Bits of the digest: an HMAC secret must be at least this long (RFC 7518 3.2). */
  readonly bits: number;
  /** node:crypto name of the curve an ECDSA key must be on (RFC 7518 3.4). */
  readonly curve?: string;
  /** Bytes of each of R and S in an ECDSA signature (RFC 7518 3.4). */
  readonly size?: number;
}

const ALGORITHMS: Readonly<Record<string, AlgorithmSpec>> = {
  HS256: { kind: 'hmac', hash: 'sha256', bits: 256 },
  HS384: { kind: 'hmac', hash: 'sha384', bits: 384 },
  HS512: { kind: 'hmac', hash: 'sha512', bits: 512 },
  RS256: { kind: 'rsa', hash: 'sha256', bits: 256 },
  RS384: { kind: 'rsa', hash: 'sha384', bits: 384 },
  RS512: { kind: 'rsa', hash: 'sha512', bits: 512 },
  PS256: { kind: 'pss', hash: 'sha256', bits: 256 },
  PS384: { kind: 'pss', hash: 'sha384', bits: 384 },
  PS512: { kind: 'pss', hash: 'sha512', bits: 512 },
  ES256: { kind: 'ecdsa', hash: 'sha256', bits: 256, curve: 'prime256v1', size: 32 },
  ES384: { kind: 'ecdsa', hash: 'sha384', bits: 384, curve: 'secp384r1', size: 48 },
  ES512: { kind: 'ecdsa', hash: 'sha512', bits: 512, curve: 'secp521r1', size: 66 },
  // RFC 9864 2.2: the fully specified `Ed25519` is the same check as `EdDSA` on an Ed25519 key.
  EdDSA: { kind: 'eddsa', hash: null, bits: 256 },
  Ed25519: { kind: 'eddsa', hash: null, bits: 256 },
};

/** The asymmetric algorithms verifiable here: what a remote issuer may be trusted with (never HS*, none). */
export const ASYMMETRIC_ALGORITHMS: readonly string[] = Object.keys(ALGORITHMS).filter(
  (alg) => ALGORITHMS[alg]?.kind !== 'hmac',
);

/** RFC 7518 3.3 and 3.5: RSA keys shorter than 2048 bits are refused. */
const MIN_RSA_BITS = 2048;

/** Whether `key` may verify `spec`: decided by the key's own type, never by the token. */
function fits(key: KeyObject, spec: AlgorithmSpec): boolean {
  if (spec.kind === 'hmac')
    return key.type === 'secret' && (key.symmetricKeySize ?? 0) * 8 >= spec.bits;
  if (key.type !== 'public') return false;
  const type = key.asymmetricKeyType;
  switch (spec.kind) {
    case 'ecdsa':
      return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === spec.curve;
    case 'eddsa':
      return type === 'ed25519';
    default:
      return (
        (type === 'rsa' || (spec.kind === 'pss' && type === 'rsa-pss')) &&
        (key.asymmetricKeyDetails?.modulusLength ?? 0) >= MIN_RSA_BITS
      );
  }
}

/** The algorithms each key fits, worked out once per key. */
const fitting = new WeakMap<KeyObject, readonly string[]>();

function algorithmsOf(key: KeyObject): readonly string[] {
  let algorithms = fitting.get(key);
  if (algorithms === undefined) {
    algorithms = Object.keys(ALGORITHMS).filter((alg) =>
      fits(key, ALGORITHMS[alg] as AlgorithmSpec),
    );
    fitting.set(key, algorithms);
  }
  return algorithms;
}

/** The start of an unsigned big-endian integer without its leading zero bytes (one zero kept). */
function integerStart(bytes: Buffer, from: number, to: number): number {
  let start = from;
  while (start < to - 1 && bytes[start] === 0) start++;
  return start;
}

/**
 * R || S as the DER `SEQUENCE { INTEGER r, INTEGER s }` OpenSSL verifies (X9.62):
 * node:crypto's own `ieee-p1363` conversion costs ~40% of an ES256 verification.
 */
function ecdsaDer(signature: Buffer, size: number): Buffer {
  const rStart = integerStart(signature, 0, size);
  const sStart = integerStart(signature, size, 2 * size);
  // A set high bit would read as negative: DER then needs one zero byte in front.
  const rPad = (signature[rStart] as number) >= 0x80 ? 1 : 0;
  const sPad = (signature[sStart] as number) >= 0x80 ? 1 : 0;
  const rLength = size - rStart + rPad;
  const sLength = 2 * size - sStart + sPad;
  const body = 4 + rLength + sLength;
  const long = body >= 0x80; // P-521: the length takes a second byte
  const der = Buffer.allocUnsafe((long ? 3 : 2) + body);
  let at = 0;
  der[at++] = 0x30;
  if (long) der[at++] = 0x81;
  der[at++] = body;
  der[at++] = 0x02;
  der[at++] = rLength;
  if (rPad === 1) der[at++] = 0;
  at += signature.copy(der, at, rStart, size);
  der[at++] = 0x02;
  der[at++] = sLength;
  if (sPad === 1) der[at++] = 0;
  signature.copy(der, at, sStart, 2 * size);
  return der;
}

/** RFC 7515 5.2 step 8: checks `signature` over `input` with a key that fits `spec`. */
function signatureValid(
  spec: AlgorithmSpec,
  key: KeyObject,
  input: string,
  signature: Buffer,
): boolean {
  switch (spec.kind) {
    case 'hmac': {
      const expected = createHmac(spec.hash as string, key)
        .update(input)
        .digest();
      // RFC 7515 10.7 (timing): equal lengths first, then a constant-time comparison.
      return expected.length === signature.length && timingSafeEqual(expected, signature);
    }
    case 'ecdsa': {
      // RFC 7518 3.4: the signature is R || S of fixed size, not DER.
      const size = spec.size as number;
      if (signature.length !== 2 * size) return false;
      return verifySignature(spec.hash, Buffer.from(input), key, ecdsaDer(signature, size));
    }
    case 'pss':
      // RFC 7518 3.5: MGF1 on the same hash and a salt as long as the hash.
      return verifySignature(
        spec.hash,
        Buffer.from(input),
        {
          key,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
        },
        signature,
      );
    default:
      return verifySignature(spec.hash, Buffer.from(input), key, signature);
  }
}

/** Checks the header before any key is looked up; returns it typed. */
function checkHeader(
  header: Record<string, unknown> | undefined,
  algorithms: readonly string[],
  typ: string | undefined,
): JwsHeader {
  if (header === undefined) throw invalidToken('header is not a UTF-8 JSON object');
  const { alg } = header;
  // RFC 8725 3.1: the allow-list decides, compared case-sensitively; `none` is never on it.
  if (typeof alg !== 'string' || !algorithms.includes(alg)) throw invalidToken('"alg" not allowed');
  for (const hint of KEY_HINTS) {
    if (header[hint] !== undefined) throw invalidToken(`"${hint}" header is never used`);
  }
  // RFC 7515 4.1.11: our tokens use no extensions, so any `crit` is one we do not understand.
  if (header.crit !== undefined) throw invalidToken('"crit" header is not accepted');
  // RFC 8725 3.11, RFC 9068 2.1: explicit typing keeps refresh and ID tokens out.
  if (typ !== undefined && (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== typ)) {
    throw invalidToken('unexpected "typ"');
  }
  return header as JwsHeader;
}

function accepts(accepted: string | readonly string[], value: unknown): boolean {
  return typeof accepted === 'string' ? accepted === value : accepted.includes(value as string);
}

function isStringArray(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** RFC 7519 4.1 and RFC 9068 2.2: the claims every access token carries, by type and value. */
function checkClaims(claims: Record<string, unknown>, rules: JwtRules, nowSeconds: number): void {
  const tolerance = rules.clockTolerance;
  if (!accepts(rules.issuer, claims.iss)) throw invalidToken('"iss" not accepted');
  const { aud } = claims;
  const audienceOk =
    typeof aud === 'string'
      ? accepts(rules.audience, aud)
      : isStringArray(aud) && aud.some((item) => accepts(rules.audience, item));
  if (!audienceOk) throw invalidToken('"aud" not accepted');
  if (typeof claims.exp !== 'number') throw invalidToken('"exp" is missing');
  if (claims.exp <= nowSeconds - tolerance) throw expiredToken();
  if (
    claims.nbf !== undefined &&
    (typeof claims.nbf !== 'number' || claims.nbf > nowSeconds + tolerance)
  ) {
    throw invalidToken('"nbf" is in the future');
  }
  // RFC 8725 3.10 / RFC 7519 4.1.6: an `iat` in the future means a wrong clock or a forged token.
  if (typeof claims.iat !== 'number' || claims.iat > nowSeconds + tolerance) {
    throw invalidToken('"iat" is missing or in the future');
  }
  if (typeof claims.sub !== 'string' || claims.sub === '')
    throw invalidToken('"sub" is not a string');
  if (typeof claims.jti !== 'string' || claims.jti === '')
    throw invalidToken('"jti" is not a string');
  if (claims.roles !== undefined && !isStringArray(claims.roles)) {
    throw invalidToken('"roles" is not an array of strings');
  }
  if (claims.scope !== undefined && typeof claims.scope !== 'string') {
    throw invalidToken('"scope" is not a string');
  }
}

function freezeDeep<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const member of Object.values(value)) freezeDeep(member);
    Object.freeze(value);
  }
  return value;
}

/** Verifies a compact JWS access token against `rules`, at the instant `now` (ms). */
export async function verifyJwt(
  token: string,
  resolveKey: KeyResolver,
  algorithms: readonly string[],
  rules: JwtRules,
  now: number,
): Promise<AccessTokenClaims> {
  // RFC 8725 3.11 in spirit: bound the work an unauthenticated input can cause, before parsing.
  if (typeof token !== 'string' || token.length === 0) throw invalidToken('no token');
  if (token.length > rules.maxTokenLength) throw invalidToken('token longer than maxTokenLength');
  if (!COMPACT_JWS.test(token)) throw invalidToken('not a compact JWS');
  const headerEnd = token.indexOf('.');
  const signatureStart = token.lastIndexOf('.') + 1;
  // RFC 7515 2: one spelling per token, so an altered one (a character appended to an
  // ES384 or RSA-3072 signature, flipped pad bits) never verifies.
  if (
    !isCanonicalBase64url(token, 0, headerEnd) ||
    !isCanonicalBase64url(token, headerEnd + 1, signatureStart - 1) ||
    !isCanonicalBase64url(token, signatureStart, token.length)
  ) {
    throw invalidToken('a segment is not canonical base64url');
  }
  const header = checkHeader(parseJsonSegment(token.slice(0, headerEnd)), algorithms, rules.typ);
  const resolved = resolveKey(header);
  const key = resolved instanceof Promise ? await resolved : resolved;
  if (!algorithmsOf(key).includes(header.alg)) throw invalidToken('"alg" does not fit the key');
  const spec = ALGORITHMS[header.alg] as AlgorithmSpec;
  let valid: boolean;
  try {
    const signature = Buffer.from(token.slice(signatureStart), 'base64url');
    valid = signatureValid(spec, key, token.slice(0, signatureStart - 1), signature);
  } catch {
    valid = false; // a signature of the wrong shape for the key
  }
  if (!valid) throw invalidToken('signature verification failed');
  // Only now, with the signature checked, is the payload read.
  const claims = parseJsonSegment(token.slice(headerEnd + 1, signatureStart - 1));
  if (claims === undefined) throw invalidToken('payload is not a UTF-8 JSON object');
  checkClaims(claims, rules, now / 1000);
  return freezeDeep(claims as AccessTokenClaims);
}
