import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * The API key format, `<prefix>_<id>_<secret><checksum>`, after GitHub's token
 * format (github.blog, "Behind GitHub's new authentication token formats", 2021):
 *
 * - `prefix`: lowercase letters and digits, so secret scanners can match the key and
 *   it can never be mistaken for a JWT (which starts `eyJ`);
 * - `id`: 16 base62 characters, not secret, the store's lookup key;
 * - `secret`: 36 base62 characters from `crypto.randomBytes`, about 214 bits;
 * - `checksum`: CRC32 of everything before it, 6 base62 characters, so a typo or a
 *   truncated key fails before any store lookup.
 *
 * Every character is in RFC 6750 section 2.1's b64token set, so a key travels as a
 * Bearer token unchanged.
 * @internal
 */

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const ID_LENGTH = 16;
export const SECRET_LENGTH = 36;
export const CHECKSUM_LENGTH = 6;
const BASE62 = /^[0-9A-Za-z]+$/;
/** Lowercase so a prefix can never match the `eyJ` start of a JWT. */
export const PREFIX = /^[a-z][a-z0-9]{1,19}$/;

/** `length` base62 characters, uniform: bytes of 248 and above are dropped (248 = 4 * 62). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length + 8)) {
      if (byte < 248) out += ALPHABET[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

function base62Fixed(value: number, length: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < length; i++) {
    out = ALPHABET[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

/** The CRC32 of `body`, as 6 base62 characters (62^6 > 2^32). */
export function checksum(body: string): string {
  return base62Fixed(crc32(body), CHECKSUM_LENGTH);
}

/** The parts of a well-formed key. */
export interface KeyParts {
  readonly id: string;
  readonly secret: string;
}

/** A new key's string and parts. */
export function generateKey(prefix: string): KeyParts & { readonly key: string } {
  const id = randomBase62(ID_LENGTH);
  const secret = randomBase62(SECRET_LENGTH);
  const body = `${prefix}_${id}_${secret}`;
  return { key: body + checksum(body), id, secret };
}

/** The parts of `key` when it has `prefix`, the right shape and a matching checksum; else undefined. */
export function parseKey(prefix: string, key: string): KeyParts | undefined {
  const idStart = prefix.length + 1;
  const secretStart = idStart + ID_LENGTH + 1;
  const checksumStart = secretStart + SECRET_LENGTH;
  if (key.length !== checksumStart + CHECKSUM_LENGTH) return undefined;
  if (!key.startsWith(prefix) || key[prefix.length] !== '_' || key[secretStart - 1] !== '_') {
    return undefined;
  }
  const id = key.slice(idStart, secretStart - 1);
  const secret = key.slice(secretStart, checksumStart);
  if (!BASE62.test(id) || !BASE62.test(secret)) return undefined;
  const body = key.slice(0, checksumStart);
  if (checksum(body) !== key.slice(checksumStart)) return undefined;
  return { id, secret };
}

/** Hashes a key's secret, bound to its id: SHA-256, or HMAC-SHA-256 keyed by the pepper. Hex. */
export function hashSecret(id: string, secret: string, pepper: Buffer | undefined): string {
  const input = `${id}_${secret}`;
  return (pepper === undefined ? createHash('sha256') : createHmac('sha256', pepper))
    .update(input)
    .digest('hex');
}

/** Compares two hex hashes in constant time; false for anything not a 32-byte hash. */
export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === 32 && right.length === 32 && timingSafeEqual(left, right);
}
