import type { EventEmitter } from 'node:events';
import {
  BadRequestError,
  HttpError,
  isHttpError,
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
  /** The `Content-Type` header, if any. */
  readonly contentType: string | undefined;
  /** The `Content-Length` header, if any, as sent. */
  readonly contentLength: string | undefined;
  /** The `Transfer-Encoding` header, if any. */
  readonly transferEncoding: string | undefined;
  /** The `Content-Encoding` header, if any. */
  readonly contentEncoding: string | undefined;
}

/** How a body is parsed: `json` (`application/json`, `+json`) or `form` (`application/x-www-form-urlencoded`). */
export type MediaKind = 'json' | 'form';

/**
 * 413 for a body over `limit` bytes. Adapters map their framework's own parser
 * errors onto it, so every framework answers the same problem.
 */
export function bodyTooLargeError(limit: number): PayloadTooLargeError {
  return new PayloadTooLargeError({
    detail: `The request body exceeds ${limit} bytes.`,
    // The rest of an oversized body is never read: close the connection after answering.
    headers: { connection: 'close' },
  });
}

/** 400 for JSON nested deeper than `maxJsonDepth` levels. */
export function bodyTooDeepError(maxJsonDepth: number): BadRequestError {
  return new BadRequestError({
    code: 'ERR_BODY_TOO_DEEP',
    detail: `The JSON body nests deeper than ${maxJsonDepth} levels.`,
  });
}

/** 400 for malformed JSON, with a fixed message: a parser's own text can echo input, so it is never shown. */
export function malformedJsonError(): BadRequestError {
  return new BadRequestError({
    code: 'ERR_MALFORMED_JSON',
    detail: 'The request body is not valid JSON.',
  });
}

/** Whether the request announces a body at all (RFC 9112 section 6.3). */
export function hasBody(headers: BodyHeaders): boolean {
  if (headers.transferEncoding !== undefined) return true;
  return headers.contentLength !== undefined && headers.contentLength !== '0';
}

/**
 * Decides up front, from headers alone, whether a body can be accepted: 413 when
 * `Content-Length` already exceeds the limit (nothing is buffered), 415 for a media
 * type other than JSON or an HTML form, a charset other than UTF-8, or a content coding
 * (`Content-Encoding: gzip`): bodies are read as sent, never decompressed.
 */
export function checkBodyHeaders(headers: BodyHeaders, limits: BodyLimits): MediaKind {
  if (headers.contentLength !== undefined && Number(headers.contentLength) > limits.limit) {
    throw bodyTooLargeError(limits.limit);
  }
  const coding = headers.contentEncoding?.trim().toLowerCase();
  if (coding !== undefined && coding !== '' && coding !== 'identity') {
    // Read as it is, a coded body would be parsed as something other than what was sent.
    // RFC 7694 section 3: a 415 names the codings accepted, here none.
    throw new UnsupportedMediaTypeError({
      detail: 'Send the body without a content coding (Content-Encoding).',
      headers: { 'accept-encoding': 'identity' },
    });
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
  /** Stops the flow of `data` events. */
  pause(): unknown;
  /** Restarts the flow of `data` events. */
  resume(): unknown;
  /** Whether the stream has already emitted `end`. */
  readonly readableEnded?: boolean;
}

/**
 * 408 for a body that stopped arriving. The rest of it will never be read, so the
 * connection cannot carry another request: `Connection: close` (RFC 9110 section 15.5.9).
 */
export function bodyTimeoutError(timeoutMs: number): HttpError {
  return new HttpError(408, {
    code: 'ERR_BODY_TIMEOUT',
    detail: `The request body stopped arriving for ${timeoutMs} ms.`,
    headers: { connection: 'close' },
  });
}

/**
 * Reads a Node stream up to `limit` bytes. Past the limit it stops listening and
 * rejects with 413 at once, without buffering the rest. With `timeoutMs`, a pause of
 * that long between chunks rejects with 408 `ERR_BODY_TIMEOUT`.
 */
export function readNodeStream(
  stream: NodeBodyStream,
  limit: number,
  timeoutMs?: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => stop(bodyTimeoutError(timeoutMs)), timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('aborted', onError);
    };
    /** Stops reading with `error`, leaving the rest of the body unread. */
    const stop = (error: HttpError) => {
      cleanup();
      stream.pause();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      timer?.refresh();
      size += chunk.length;
      if (size > limit) {
        stop(bodyTooLargeError(limit));
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

/**
 * Reads a web `ReadableStream` up to `limit` bytes, cancelling it past the limit, and
 * with `timeoutMs` after a pause of that long between chunks (408).
 */
export async function readWebStream(
  stream: ReadableStream<Uint8Array>,
  limit: number,
  timeoutMs?: number,
): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  // Cancelling ends the pending read as if the body were complete: `timedOut` tells apart.
  let timedOut: HttpError | undefined;
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = bodyTimeoutError(timeoutMs);
          void reader.cancel().catch(() => {});
        }, timeoutMs);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (timedOut !== undefined) throw timedOut;
      if (done) break;
      timer?.refresh();
      size += value.byteLength;
      if (size > limit) {
        void reader.cancel().catch(() => {});
        throw bodyTooLargeError(limit);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (isHttpError(error)) throw error;
    throw new BadRequestError({
      code: 'ERR_BODY_READ',
      detail: 'The request body could not be read.',
    });
  } finally {
    clearTimeout(timer);
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

/**
 * Parses body bytes of an accepted media type. JSON that is malformed or too deep
 * is a 400 with a fixed message: the parser's own text is never shown.
 *
 * @example
 * Reading a `node:http` request body in a custom adapter, as the built-in ones do:
 * ```ts
 * const headers = {
 *   contentType: req.headers['content-type'],
 *   contentLength: req.headers['content-length'],
 *   transferEncoding: req.headers['transfer-encoding'],
 *   contentEncoding: req.headers['content-encoding'],
 * };
 * if (hasBody(headers)) {
 *   const limits = { limit: toolkit.bodyLimit, maxJsonDepth: toolkit.maxJsonDepth };
 *   const kind = checkBodyHeaders(headers, limits); // 413 or 415 before a byte is read
 *   const body = parseBody(await readNodeStream(req, limits.limit), kind, limits);
 * }
 * ```
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
    throw bodyTooDeepError(limits.maxJsonDepth);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformedJsonError();
  }
  if (
    text.includes('__proto__') ||
    text.includes('constructor') ||
    text.includes('prototype') ||
    text.includes('\\u')
  ) {
    checkParsedBody(value, limits);
  }
  return value;
}

function isPlainContainer(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return true;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Walks at most `depthLeft` levels, dropping forbidden keys; false when the value nests deeper. */
function sanitizeParsed(value: Record<string, unknown>, depthLeft: number): boolean {
  if (depthLeft === 0) return false;
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isPlainContainer(item) && !sanitizeParsed(item, depthLeft - 1)) return false;
    }
    return true;
  }
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) {
      delete value[key];
      continue;
    }
    const child = value[key];
    if (isPlainContainer(child) && !sanitizeParsed(child, depthLeft - 1)) return false;
  }
  return true;
}

/**
 * Applies the body rules to a value a framework's own parser produced
 * (`express.json()`, `@koa/bodyparser`): 400 when it nests deeper than
 * `maxJsonDepth`, and `__proto__`, `constructor` and `prototype` keys removed at any
 * depth, so every framework answers as {@link parseBody} does. Strings, bytes and
 * class instances pass as they are. Returns the same value.
 */
export function checkParsedBody(value: unknown, limits: Pick<BodyLimits, 'maxJsonDepth'>): unknown {
  if (isPlainContainer(value) && !sanitizeParsed(value, limits.maxJsonDepth)) {
    throw bodyTooDeepError(limits.maxJsonDepth);
  }
  return value;
}
