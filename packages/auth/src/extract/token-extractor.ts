import { ConfigurationError, type Context } from '@org/core';
import {
  DEFAULT_TOKEN_PROTOCOLS,
  isWebSocketUpgrade,
  webSocketProtocolToken,
} from '@org/core/adapter';
import { InvalidTokenError, MalformedAuthorizationError } from '../errors/token-errors.js';
import { checkRealm } from '../internal/challenge.js';

/** Options of {@link createTokenExtractor}. */
export interface TokenExtractorOptions {
  /** Realm of the 400 and 401 challenges. @default 'api' */
  realm?: string;
  /**
   * Name of a cookie to read the token from when the request has no `Authorization`
   * header, for browser apps. Off unless set. A cookie is sent by the browser on its
   * own, so protect state-changing routes against CSRF (`SameSite=Strict` or `Lax`,
   * a `__Host-` name, an anti-CSRF token).
   * @default undefined (no cookie)
   */
  cookie?: string;
  /**
   * On a WebSocket upgrade request only (`GET` with `Upgrade: websocket`) without an
   * `Authorization` header, read the token from `Sec-WebSocket-Protocol: bearer, <token>`
   * (or another of these markers before the token), since browsers cannot set headers on
   * `new WebSocket(url, ['bearer', token])`. Answer the `101` with `webSocketProtocols()`
   * of `@org/core`, which never echoes the token. False for never.
   * @default ['bearer', 'access_token']
   */
  webSocketProtocols?: readonly string[] | false;
}

/**
 * Reads a request's access token; undefined when it carries none. Throws a 400
 * {@link MalformedAuthorizationError} or a 401 {@link InvalidTokenError}.
 */
export type TokenExtractor = (ctx: Context) => string | undefined;

/** RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** RFC 6265 section 4.1.1 cookie-name is an RFC 9110 token. */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Creates the function that finds the bearer token of a request:
 *
 * - exactly one `Authorization` header with scheme `Bearer` (any case) followed by
 *   one b64token (RFC 6750 section 2.1);
 * - more than one `Authorization` header, or `Bearer` with no token or several, is a
 *   400 `invalid_request` (RFC 6750 section 3.1);
 * - a token with characters outside b64token is a 401 `invalid_token`;
 * - another scheme (`Basic ...`) means no bearer token: a 401 with the realm only,
 *   once a dependency requires one;
 * - otherwise, on a WebSocket upgrade request only, `Sec-WebSocket-Protocol: bearer, <token>`
 *   (`webSocketProtocols`);
 * - otherwise, with `cookie` set, the named cookie;
 * - never the query string: RFC 6750 section 2.3 URI tokens end up in logs,
 *   history and `Referer`.
 *
 * @example
 * ```ts
 * const extract = createTokenExtractor({ cookie: '__Host-access_token' });
 * const token = extract(ctx); // string | undefined
 * ```
 */
export function createTokenExtractor(options: TokenExtractorOptions = {}): TokenExtractor {
  const { read, check } = createTokenReader(options);
  return (ctx) => {
    const token = read(ctx);
    return token === undefined ? undefined : check(token);
  };
}

/**
 * {@link createTokenExtractor} in two steps, for a caller with a cheaper check of its
 * own: `read` finds the token and throws what the request's headers alone show
 * (several `Authorization` headers, `Bearer` with no token, a cookie token that is
 * not a b64token); `check` is the b64token rule for a header token. A token that
 * passed `read` and `check` once and was verified is a valid b64token every time,
 * so the verified-token cache's hit skips `check` (a pass over every character).
 * @internal
 */
export function createTokenReader(options: TokenExtractorOptions = {}): {
  read: TokenExtractor;
  check: (token: string) => string;
} {
  const realm = checkRealm('realm', options.realm ?? 'api');
  const cookie = options.cookie;
  if (cookie !== undefined && !COOKIE_NAME.test(cookie)) {
    throw new ConfigurationError(
      `cookie must be a valid cookie name (RFC 6265 section 4.1.1); received ${JSON.stringify(cookie)}.`,
    );
  }
  const markers = options.webSocketProtocols ?? DEFAULT_TOKEN_PROTOCOLS;
  if (
    markers !== false &&
    (!Array.isArray(markers) || markers.some((m) => typeof m !== 'string'))
  ) {
    throw new ConfigurationError('webSocketProtocols must be an array of strings or false.');
  }
  const malformedToken = (): InvalidTokenError =>
    new InvalidTokenError({ realm, description: 'The access token is malformed.' });

  const read: TokenExtractor = (ctx) => {
    const values = ctx.request.headerValues('authorization');
    if (values.length === 0) {
      if (
        markers !== false &&
        isWebSocketUpgrade(ctx.request.method, ctx.request.header('upgrade'))
      ) {
        const token = webSocketProtocolToken(ctx.request.header('sec-websocket-protocol'), markers);
        if (token !== undefined) return token;
      }
      if (cookie === undefined) return undefined;
      const value = ctx.request.cookie(cookie);
      if (value === undefined || value === '') return undefined;
      if (!B64TOKEN.test(value)) throw malformedToken();
      return value;
    }
    if (values.length > 1) {
      throw new MalformedAuthorizationError({
        realm,
        description: 'Send exactly one Authorization header.',
      });
    }
    return readBearer(values[0] as string);
  };

  const check = (token: string): string => {
    if (B64TOKEN.test(token)) return token;
    if (token === '' || /\s/.test(token)) {
      throw new MalformedAuthorizationError({
        realm,
        description: "Send the token as 'Authorization: Bearer <token>'.",
      });
    }
    throw malformedToken();
  };

  return { read, check };
}

/** The credentials after `Bearer` (RFC 6750 section 2.1), unchecked; undefined for another scheme. */
function readBearer(value: string): string | undefined {
  const space = value.indexOf(' ');
  const scheme = space === -1 ? value : value.slice(0, space);
  // RFC 9110 section 11.1: the auth-scheme is case-insensitive.
  if (scheme.length !== 6 || scheme.toLowerCase() !== 'bearer') return undefined;
  // RFC 6750 section 2.1: credentials = "Bearer" 1*SP b64token
  let start = space === -1 ? value.length : space + 1;
  while (value.charCodeAt(start) === 0x20) start++;
  return value.slice(start);
}
