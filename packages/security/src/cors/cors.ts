import { ConfigurationError, type Context, type Plugin, type Reply } from '@org/core';
import { booleanOption, integerInRange } from '@org/core/adapter';
import { TOKEN } from '../internal/field-name.js';
import { type CorsOrigins, compileOrigins, type OriginMatcher } from './origin-matcher.js';

/** Options of {@link cors}. */
export interface CorsOptions {
  /**
   * Origins whose scripts may read responses: exact origins (`'https://app.example.com'`),
   * anchored RegExps, `'*'` for any (public data only, never with credentials), or a
   * function. `'null'` is allowed only when listed as the exact string.
   * @default [] (no cross-origin reads)
   */
  origins?: CorsOrigins;
  /** Allow cookies and `Authorization` on cross-origin requests (`Access-Control-Allow-Credentials`). @default false */
  credentials?: boolean;
  /** Methods a preflight allows. @default ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] */
  methods?: readonly string[];
  /** Request headers a preflight allows. @default ['Authorization', 'Content-Type', 'X-Request-Id'] */
  allowedHeaders?: readonly string[];
  /** Response headers scripts may read. @default the RateLimit headers, Retry-After and X-Request-Id */
  exposedHeaders?: readonly string[];
  /** Seconds a browser may cache a preflight (browsers cap it: Chromium at 7200). @default 600 */
  maxAgeSeconds?: number;
}

const FACTORY = 'cors';
const DEFAULT_EXPOSED = [
  'RateLimit',
  'RateLimit-Policy',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
  'Retry-After',
  'X-Request-Id',
];

function tokenList(option: string, values: readonly string[]): string {
  for (const value of values) {
    if (typeof value !== 'string' || !TOKEN.test(value)) {
      throw new ConfigurationError(
        `${FACTORY}: \`${option}\` entry ${JSON.stringify(value)} is not a header or method name.`,
      );
    }
  }
  return values.join(', ');
}

class CorsPlugin implements Plugin {
  readonly name = 'cors';
  readonly #anyOrigin: boolean;
  readonly #allows: OriginMatcher | undefined;
  readonly #credentials: boolean;
  readonly #exposed: string;
  readonly #preflight: Readonly<Record<string, string>>;

  constructor(options: CorsOptions) {
    const origins = options.origins ?? [];
    this.#credentials = booleanOption(FACTORY, 'credentials', options.credentials, false);
    this.#anyOrigin = origins === '*';
    if (this.#anyOrigin && this.#credentials) {
      // Fetch standard, CORS protocol: a credentialed response may not use `*`.
      throw new ConfigurationError(
        `${FACTORY}: \`credentials: true\` with \`origins: '*'\` would let any site act as the signed-in user. List the trusted origins instead.`,
      );
    }
    this.#allows = this.#anyOrigin ? undefined : compileOrigins(origins, FACTORY);
    this.#exposed = tokenList('exposedHeaders', options.exposedHeaders ?? DEFAULT_EXPOSED);
    const maxAge = integerInRange(FACTORY, 'maxAgeSeconds', options.maxAgeSeconds, {
      min: 0,
      max: 86_400,
      fallback: 600,
    });
    this.#preflight = {
      'access-control-allow-methods': tokenList(
        'methods',
        options.methods ?? ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      ),
      'access-control-allow-headers': tokenList(
        'allowedHeaders',
        options.allowedHeaders ?? ['Authorization', 'Content-Type', 'X-Request-Id'],
      ),
      'access-control-max-age': String(maxAge),
      ...(this.#credentials ? { 'access-control-allow-credentials': 'true' } : {}),
    };
  }

  onRequest(ctx: Context): void | Reply {
    const origin = ctx.request.header('origin');
    const preflight =
      origin !== undefined &&
      ctx.request.method === 'OPTIONS' &&
      ctx.request.header('access-control-request-method') !== undefined;
    if (this.#anyOrigin) {
      if (origin === undefined) return;
      if (preflight)
        return { status: 204, headers: { ...this.#preflight, 'access-control-allow-origin': '*' } };
      ctx.setHeader('access-control-allow-origin', '*');
      if (this.#exposed !== '') ctx.setHeader('access-control-expose-headers', this.#exposed);
      return;
    }
    const allowed = origin !== undefined && (this.#allows as OriginMatcher)(origin, ctx);
    if (preflight) {
      // A refused preflight still ends here, without the CORS headers the browser needs.
      return allowed
        ? {
            status: 204,
            headers: { ...this.#preflight, 'access-control-allow-origin': origin, vary: 'Origin' },
          }
        : { status: 204, headers: { vary: 'Origin' } };
    }
    // The answer depends on Origin, also when it is absent: caches must key on it.
    ctx.appendHeader('vary', 'Origin');
    if (!allowed) return;
    ctx.setHeader('access-control-allow-origin', origin);
    if (this.#credentials) ctx.setHeader('access-control-allow-credentials', 'true');
    if (this.#exposed !== '') ctx.setHeader('access-control-expose-headers', this.#exposed);
  }
}

/**
 * Strict CORS as a plugin: only listed origins are echoed in
 * `Access-Control-Allow-Origin` (never a reflected unknown origin), `Vary: Origin` on
 * every answer that depends on it, and preflights answered at once with 204.
 *
 * @example
 * ```ts
 * cors({ origins: ['https://app.example.com', /^https:\/\/[a-z0-9-]+\.preview\.example\.com$/], credentials: true });
 * ```
 * @throws A {@link ConfigurationError} when `credentials` meets `'*'`, a RegExp is unanchored, or an origin is malformed.
 */
export function cors(options: CorsOptions = {}): Plugin {
  return new CorsPlugin(options);
}
