// Response header checks, as Node's `validateHeaderName`/`validateHeaderValue` make them
// (same codes and messages), without loading `node:http` for every feature package.

/** RFC 9110 section 5.1: a field name is a token (tchar = "!#$%&'*+-.^_`|~", digits, letters). */
const TOKEN = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/;

/** RFC 9110 section 5.5: a field value is HTAB, SP, VCHAR or obs-text: never CR, LF or NUL. */
const INVALID_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

/** A TypeError with a stable `code`, as Node throws it. */
function codedTypeError(code: string, message: string): TypeError {
  return Object.assign(new TypeError(message), { code });
}

/** Throws `ERR_INVALID_HTTP_TOKEN` unless `name` is a valid field name. */
export function checkHeaderName(name: string): void {
  if (typeof name !== 'string' || !TOKEN.test(name)) {
    throw codedTypeError(
      'ERR_INVALID_HTTP_TOKEN',
      `Header name must be a valid HTTP token ["${String(name)}"]`,
    );
  }
}

/** Throws `ERR_HTTP_INVALID_HEADER_VALUE` for no value, `ERR_INVALID_CHAR` for a forbidden character. */
export function checkHeaderValue(name: string, value: string): void {
  if (value === undefined) {
    throw codedTypeError(
      'ERR_HTTP_INVALID_HEADER_VALUE',
      `Invalid value "${String(value)}" for header "${name}"`,
    );
  }
  if (INVALID_VALUE_CHAR.test(String(value))) {
    throw codedTypeError('ERR_INVALID_CHAR', `Invalid character in header content ["${name}"]`);
  }
}

/** Whether Node would send the header: a valid name, and each value (of a list too) free of forbidden characters. */
export function isSendableHeader(name: string, value: unknown): boolean {
  if (typeof name !== 'string' || !TOKEN.test(name)) return false;
  const values: readonly unknown[] = Array.isArray(value) ? value : [value];
  return values.every((item) => item !== undefined && !INVALID_VALUE_CHAR.test(String(item)));
}
