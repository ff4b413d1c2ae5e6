/**
 * Reading the segments of a compact JWS strictly: each one the single canonical
 * base64url encoding of its bytes, and the header and payload well-formed UTF-8 JSON
 * objects. A lenient decoder lets one token be spelled several ways (a character
 * appended, pad bits flipped), and every spelling would verify.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The 6-bit value of each base64url character (RFC 4648 5); -1 outside the alphabet. */
const VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i;

/** RFC 7519 7.2 step 10: bytes that are not UTF-8 fail, never become U+FFFD. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Whether `text` from `start` to `end`, whose characters are already known to be in
 * the base64url alphabet, is canonical (RFC 7515 2, RFC 4648 3.5 and 5): no padding,
 * no length of 1 mod 4 (a lone character encodes no byte) and zero pad bits in the
 * last character (4 of them after 2 mod 4 characters, 2 after 3 mod 4).
 */
export function isCanonicalBase64url(text: string, start: number, end: number): boolean {
  const last = VALUES[text.charCodeAt(end - 1)] ?? -1;
  switch ((end - start) % 4) {
    case 0:
      return true;
    case 1:
      return false;
    case 2:
      return (last & 0x0f) === 0;
    default:
      return (last & 0x03) === 0;
  }
}

/**
 * Decodes a canonical base64url segment holding a JSON object. Undefined for bytes
 * that are not UTF-8 (a byte order mark included: RFC 8259 8.1) and for JSON that is
 * not an object.
 */
export function parseJsonSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(UTF8.decode(Buffer.from(segment, 'base64url')));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
