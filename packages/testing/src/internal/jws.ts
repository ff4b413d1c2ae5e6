/**
 * Compact JWS pieces for forging: jose signs whatever header it is given (crit
 * included), and the unsigned variants are assembled by hand.
 */
import { createHmac, type webcrypto } from 'node:crypto';
import type { JWK } from 'jose';
import * as base64url from 'jose/base64url';
import { CompactSign } from 'jose/jws/compact/sign';
import { TestingError } from '../errors/testing-error.js';

/** A JOSE header or claims set, any members. */
export type JsonObject = Record<string, unknown>;

/** The parts of a compact JWS. */
export interface CompactParts {
  readonly header: JsonObject;
  readonly payload: JsonObject;
  readonly headerSegment: string;
  readonly payloadSegment: string;
  readonly signature: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** base64url(JSON) of a header or claims set. */
export function segment(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}

function decodeObject(part: string | undefined, what: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(base64url.decode(part ?? '')));
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TestingError('ERR_TOKEN_FACTORY', `The token's ${what} is not a JSON object.`);
  }
  return value as JsonObject;
}

/** Splits a compact JWS; throws a {@link TestingError} when it is not one. */
export function decodeCompact(token: string): CompactParts {
  const parts = token.split('.');
  if (parts.length !== 3) {
    throw new TestingError(
      'ERR_TOKEN_FACTORY',
      'The token is not a compact JWS (three dot-separated parts).',
    );
  }
  const [headerSegment = '', payloadSegment = '', signature = ''] = parts;
  return {
    header: decodeObject(headerSegment, 'header'),
    payload: decodeObject(payloadSegment, 'payload'),
    headerSegment,
    payloadSegment,
    signature,
  };
}

/** Signs `payload` under `header` (which must name `alg`) with jose; any `crit` member is allowed. */
export function sign(
  header: JsonObject & { alg: string },
  payload: JsonObject,
  key: webcrypto.CryptoKey | Uint8Array | JWK,
): Promise<string> {
  const crit = Array.isArray(header.crit)
    ? Object.fromEntries((header.crit as string[]).map((name) => [name, true]))
    : undefined;
  return (
    new CompactSign(encoder.encode(JSON.stringify(payload)))
      .setProtectedHeader(header)
      // A TestKey's key is node:crypto's CryptoKey (its type names more key usages than the DOM lib's).
      .sign(key as CryptoKey | Uint8Array | JWK, crit === undefined ? undefined : { crit })
  );
}

/** Assembles a token from a header, a payload and a signature segment, no signing. */
export function assemble(header: JsonObject, payload: JsonObject | string, signature = ''): string {
  const body = typeof payload === 'string' ? payload : segment(payload);
  return `${segment(header)}.${body}.${signature}`;
}

/**
 * HS256 over any bytes, even empty ones (jose rightly refuses a zero-length key):
 * the key-confusion attacks sign with a public key's text or with what a
 * `kid` injection would make a naive server load.
 */
export function hmacSign(
  header: JsonObject,
  payload: JsonObject,
  key: string | Uint8Array,
): string {
  const input = `${segment({ ...header, alg: 'HS256' })}.${segment(payload)}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}
