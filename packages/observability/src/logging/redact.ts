/**
 * Secret redaction at any depth. pino's own `redact` takes fixed paths (`a.b.c`,
 * one-level wildcards), so a token three levels into a request body slips through;
 * this walks the logged object instead. Cost is kept small: copy-on-write (objects
 * without secrets are returned as they are, never cloned or mutated), a cached
 * verdict per key name, and a one-pass pre-check before any string is regex-scanned.
 */

/** The replacement text for every redacted value. */
export const REDACTED = '[REDACTED]';

/**
 * Field and header names whose values never reach a log line. Matching ignores case,
 * `-` and `_`, so `refreshToken`, `Refresh-Token` and `refresh_token` are all caught.
 */
export const DEFAULT_REDACT_FIELDS: readonly string[] = Object.freeze([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'password',
  'refresh_token',
  'access_token',
  'id_token',
  'token',
  'secret',
  'client_secret',
  'api_key',
]);

const TRUNCATED = '[Truncated]';

/**
 * Short printable ASCII without space, `"`, `=` and `\`: no pattern of `text` can match
 * (each needs a space, an `=` or a quote) and JSON escapes nothing, so the value is its
 * own JSON once quoted. Ids, methods, route templates and addresses all are.
 */
const INERT_TEXT = /^[\x21\x23-\x3c\x3e-\x5b\x5d-\x7e]{0,64}$/;
const KEY_CACHE_LIMIT = 10_000;

/** Replaces secrets in logged values. */
export interface Redactor {
  /** `value` with secrets replaced: the same reference when there was nothing to replace. */
  value(value: unknown, depth?: number): unknown;
  /** Masks secrets in free text: `?access_token=...` and `Bearer ...` credentials. */
  text(text: string): string;
  /** {@link Redactor.text} as a JSON string (quoted and escaped), for a log line. */
  json(text: string): string;
  /** Whether a field of this name is redacted. */
  isSecretKey(key: string): boolean;
  /** A serialized JSON line (`{...}` and its line end) passed through `value`: the same string when nothing changed. */
  line(json: string): string;
}

const normalize = (name: string): string => name.toLowerCase().replace(/[-_]/g, '');
const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Builds a redactor for the given names (already merged with the defaults). */
export function createRedactor(fields: readonly string[], maxDepth: number): Redactor {
  const secret = new Set(fields.map(normalize));
  const verdicts = new Map<string, boolean>();
  const names = [...new Set(fields)]
    .sort((a, b) => b.length - a.length)
    .map((field) => escapeRegExp(field).replace(/[-_]/g, '[-_]?'));
  // A secret name as a query or form parameter: `?token=abc&x=1` -> `?token=[REDACTED]&x=1`.
  const queryParameter = new RegExp(`(^|[?&;\\s])(${names.join('|')})=[^&#\\s"'<>]*`, 'gi');
  // A secret name as a JSON member in text: `{"password":"x"}` -> `{"password":"[REDACTED]"}`.
  const jsonMember = new RegExp(`"(${names.join('|')})"\\s*:\\s*"(?:[^"\\\\]|\\\\.)*"`, 'gi');
  // RFC 9110 section 11.4 credentials in free text: `Bearer eyJ...`, `Basic dXNl...`.
  const credentials = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/-]+=*/gi;

  const isSecretKey = (key: string): boolean => {
    let verdict = verdicts.get(key);
    if (verdict === undefined) {
      verdict = secret.has(normalize(key));
      if (verdicts.size < KEY_CACHE_LIMIT) verdicts.set(key, verdict);
    }
    return verdict;
  };

  const text = (value: string): string => {
    let out = value;
    if (out.includes('=')) out = out.replace(queryParameter, `$1$2=${REDACTED}`);
    if (out.includes('":')) out = out.replace(jsonMember, `"$1":"${REDACTED}"`);
    if (out.includes('Bearer') || out.includes('Basic') || out.includes('bearer')) {
      out = out.replace(credentials, `$1 ${REDACTED}`);
    }
    return out;
  };

  const json = (value: string): string =>
    INERT_TEXT.test(value) ? `"${value}"` : JSON.stringify(text(value));

  const walkObject = (object: object, depth: number): object => {
    let copy: Record<string, unknown> | undefined;
    for (const key of Object.keys(object)) {
      const current = (object as Record<string, unknown>)[key];
      const next =
        isSecretKey(key) && current !== undefined && current !== null
          ? REDACTED
          : value(current, depth + 1);
      if (next !== current) {
        copy ??= { ...object } as Record<string, unknown>;
        copy[key] = next;
      }
    }
    return copy ?? object;
  };

  const walkArray = (array: readonly unknown[], depth: number): readonly unknown[] => {
    let copy: unknown[] | undefined;
    for (let i = 0; i < array.length; i++) {
      const current = array[i];
      const next = value(current, depth + 1);
      if (next !== current) {
        copy ??= [...array];
        copy[i] = next;
      }
    }
    return copy ?? array;
  };

  const value = (input: unknown, depth = 0): unknown => {
    if (typeof input === 'string') return text(input);
    if (typeof input !== 'object' || input === null) return input;
    if (input instanceof Date || ArrayBuffer.isView(input) || input instanceof ArrayBuffer) {
      return input;
    }
    if (input instanceof Map || input instanceof Set) return input; // JSON writes them as {}
    // Past the depth limit nothing is inspected, so nothing is written either.
    if (depth >= maxDepth) return TRUNCATED;
    if (Array.isArray(input)) return walkArray(input, depth);
    const toJSON = (input as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      const json: unknown = toJSON.call(input);
      return json === input ? walkObject(input, depth) : value(json, depth + 1);
    }
    return walkObject(input, depth);
  };

  const line = (json: string): string => {
    const end = json.lastIndexOf('}') + 1;
    const parsed: unknown = JSON.parse(json.slice(0, end));
    const redacted = value(parsed);
    return redacted === parsed ? json : JSON.stringify(redacted) + json.slice(end);
  };

  return { value, text, json, isSecretKey, line };
}
