import { createHash } from 'node:crypto';
import type { Context, Reply } from '@org/core';
import { nonNegativeInteger } from '@org/core/adapter';
import type { KeySet } from './key-set.js';

/** RFC 7517 8.5.1: the media type of a JWK Set. */
export const JWKS_CONTENT_TYPE = 'application/jwk-set+json';

/** Options of {@link jwksHandler}. */
export interface JwksHandlerOptions {
  /**
   * Seconds clients and caches may keep the document (`Cache-Control: max-age`).
   * Publish a new key with `add` at least this long before `rotate` makes it sign,
   * so every verifier has it when the first token signed with it arrives.
   * @default 300
   */
  maxAge?: number;
}

interface Rendered {
  /** Bytes, so no framework re-encodes the body or rewrites its content type. */
  readonly body: Uint8Array;
  readonly ok: Readonly<Record<string, string>>;
  readonly notModified: Readonly<Record<string, string>>;
  readonly etag: string;
}

function render(keySet: KeySet, cacheControl: string): Rendered {
  const body = Buffer.from(JSON.stringify(keySet.jwks()), 'utf8');
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  return {
    body,
    etag,
    ok: Object.freeze({ 'content-type': JWKS_CONTENT_TYPE, 'cache-control': cacheControl, etag }),
    notModified: Object.freeze({ 'cache-control': cacheControl, etag }),
  };
}

/** RFC 9110 13.1.2: does `If-None-Match` name the current representation? */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  for (const candidate of ifNoneMatch.split(',')) {
    const value = candidate.trim();
    if (value === '*' || value === etag || value === `W/${etag}`) return true;
  }
  return false;
}

/**
 * A framework-neutral handler for `GET /.well-known/jwks.json`: the key set's
 * public keys only (never a private key or an HMAC secret), with `Cache-Control`,
 * an `ETag` and `304 Not Modified` for a matching `If-None-Match`. The document is
 * rendered once per key-set change, not per request.
 *
 * @example
 * ```ts
 * // node:http
 * app.get('/.well-known/jwks.json', {}, jwksHandler(keySet));
 * // any framework
 * router.get('/.well-known/jwks.json', kit.endpoint(jwksHandler(keySet)));
 * ```
 */
export function jwksHandler(
  keySet: KeySet,
  options: JwksHandlerOptions = {},
): (ctx: Context) => Reply {
  const maxAge = nonNegativeInteger('jwksHandler', 'maxAge', options.maxAge, 300);
  const cacheControl = `public, max-age=${maxAge}`;
  let rendered = render(keySet, cacheControl);
  keySet.onChange(() => {
    rendered = render(keySet, cacheControl);
  });
  return (ctx) => {
    const current = rendered;
    if (matches(ctx.request.header('if-none-match'), current.etag)) {
      return { status: 304, headers: current.notModified };
    }
    return { status: 200, headers: current.ok, body: current.body };
  };
}
