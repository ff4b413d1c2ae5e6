import type { EventEmitter } from 'node:events';
import {
  BadRequestError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
} from '../errors/http-error.js';

/** Limits applied to every request body. */
export interface BodyLimits {
  /** Largest body in bytes. */
  readonly limit: number;
  /** Deepest JSON nesting. */
  readonly maxJsonDepth: number;
}

/** Headers that decide how a body is read. */
export interface BodyHeaders {
  readonly contentType: string | undefined;
  readonly contentLength: string | undefined;
  readonly transferEncoding: string | undefined;
}

type MediaKind = 'json' | 'form';

const tooLarge = (limit: number) =>
  new PayloadTooLargeError({
    detail: `The request body exceeds ${limit} bytes.`,
    // The rest of an oversized body is never read: close the connection after answering.
    headers: { connection: 'close' },
  });

/** Whether the request announces a body at all (RFC 9112 section 6.3). */
export function hasBody(headers: BodyHeaders): boolean {
  if (headers.transferEncoding !== undefined) return true;
  return headers.contentLength !== undefined && headers.contentLength !== '0';
}

/**
 * Decides up front, from headers alone, whether a body can be accepted: 413 when
 * `Content-Length` already exceeds the limit (nothing is buffered), 415 for a media
 * type other than JSON or an HTML form, or a charset other than UTF-8.
 */
export function checkBodyHeaders(headers: BodyHeaders, limits: BodyLimits): MediaKind {
  if (headers.contentLength !== undefined && Number(headers.contentLength) > limits.limit) {
    throw tooLarge(limits.limit);
  }
  const raw = headers.contentType ?? '';
  const semicolon = raw.indexOf(';');
  const essence = (semicolon === -1 ? raw : raw.slice(0, semicolon)).trim().toLowerCase();
  let kind: MediaKind | undefined;
  if (
    essence === 'application/json' ||
    (essence.startsWith('application/') && essence.endsWith('+json'))
  ) {
    kind = 'json';
  } else if (essence === 'application/x-www-form-urlencoded') {
    kind = 'form';
  }
  if (kind === undefined) {
    throw new UnsupportedMediaTypeError({
      detail: 'Send the body as application/json or application/x-www-form-urlencoded.',
    });
  }
  if (semicolon !== -1) {
    const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(raw.slice(semicolon))?.[1]?.toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      throw new UnsupportedMediaTypeError({ detail: 'Only the UTF-8 charset is accepted.' });
    }
  }
  return kind;
}

/** A Node readable (IncomingMessage) as far as reading a body needs it. */
export interface NodeBodyStream extends EventEmitter {
  pause(): unknown;
  resume(): unknown;
  readonly readableEnded?: boolean;
}

/**
 * Reads a Node stream up to `limit` bytes. Past the limit it stops listening and
 * rejects with 413 at once, without buffering the rest.
 */
export function readNodeStream(stream: NodeBodyStream, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('aborted', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        stream.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onError = () => {
      cleanup();
      reject(
        new BadRequestError({
          code: 'ERR_BODY_READ',
          detail: 'The request body could not be read.',
        }),
      );
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('aborted', onError);
    stream.resume();
  });
}

/** Reads a web `ReadableStream` up to `limit` bytes, cancelling it past the limit. */
export async function readWebStream(
  stream: ReadableStream<Uint8Array>,
  limit: number,
): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        void reader.cancel().catch(() => {});
        throw tooLarge(limit);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof PayloadTooLargeError) throw error;
    throw new BadRequestError({
      code: 'ERR_BODY_READ',
      detail: 'The request body could not be read.',
    });
  }
  return Buffer.concat(chunks, size);
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** True when JSON text nests arrays/objects deeper than `max`, scanned without parsing. */
function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

/** Removes `__proto__`, `constructor` and `prototype` keys at any depth, so merging the body never pollutes a prototype. */
function stripForbiddenKeys(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) stripForbiddenKeys(item);
    return;
  }
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) delete (value as Record<string, unknown>)[key];
    else stripForbiddenKeys((value as Record<string, unknown>)[key]);
  }
}

/**
 * Parses body bytes of an accepted media type. JSON that is malformed or too deep
 * is a 400 with a fixed message: the parser's own text is never shown.
 */
export function parseBody(bytes: Uint8Array, kind: MediaKind, limits: BodyLimits): unknown {
  if (bytes.byteLength === 0) return undefined;
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new BadRequestError({
      code: 'ERR_BODY_ENCODING',
      detail: 'The request body is not valid UTF-8.',
    });
  }
  if (kind === 'form') {
    const form: Record<string, string | string[]> = {};
    for (const [key, value] of new URLSearchParams(text)) {
      if (FORBIDDEN_KEYS.has(key)) continue;
      const existing = form[key];
      if (existing === undefined) form[key] = value;
      else if (Array.isArray(existing)) existing.push(value);
      else form[key] = [existing, value];
    }
    return form;
  }
  if (nestsDeeperThan(text, limits.maxJsonDepth)) {
    throw new BadRequestError({
      code: 'ERR_BODY_TOO_DEEP',
      detail: `The JSON body nests deeper than ${limits.maxJsonDepth} levels.`,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BadRequestError({
      code: 'ERR_MALFORMED_JSON',
      detail: 'The request body is not valid JSON.',
    });
  }
  if (
    text.includes('__proto__') ||
    text.includes('constructor') ||
    text.includes('prototype') ||
    text.includes('\\u')
  ) {
    stripForbiddenKeys(value);
  }
  return value;
}
