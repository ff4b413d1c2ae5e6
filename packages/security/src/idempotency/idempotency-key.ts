// The Idempotency-Key field value: draft-ietf-httpapi-idempotency-key-header section 2.1
// makes it an Item Structured Field whose value is a String (RFC 9651 section 3.3.3).

/** Why a key was refused, for the 400 problem's detail. */
export type KeyProblem = 'repeated' | 'not-a-string' | 'empty' | 'too-long';

/**
 * The key carried by the `Idempotency-Key` field lines `values`, unescaped, or why it is
 * not one: exactly one line (section 2.1: clients MUST NOT send more than one), an
 * sf-string (`"` printable ASCII with `\"` and `\\` escapes `"`), surrounding spaces
 * allowed (RFC 9651 section 4.2), not empty, at most `maxLength` characters.
 */
export function parseIdempotencyKey(
  values: readonly string[],
  maxLength: number,
): { key: string } | { problem: KeyProblem } {
  if (values.length !== 1) return { problem: 'repeated' };
  const field = (values[0] as string).trim();
  if (field.length < 2 || field[0] !== '"' || field[field.length - 1] !== '"') {
    return { problem: 'not-a-string' };
  }
  let key = '';
  const end = field.length - 1;
  for (let i = 1; i < end; i++) {
    let code = field.charCodeAt(i);
    if (code === 0x5c) {
      // RFC 9651 4.2.5: only \" and \\ are escapes.
      code = field.charCodeAt(++i);
      if (i === end || (code !== 0x22 && code !== 0x5c)) return { problem: 'not-a-string' };
    } else if (code === 0x22 || code < 0x20 || code > 0x7e) {
      return { problem: 'not-a-string' };
    }
    key += String.fromCharCode(code);
    if (key.length > maxLength) return { problem: 'too-long' };
  }
  return key === '' ? { problem: 'empty' } : { key };
}
