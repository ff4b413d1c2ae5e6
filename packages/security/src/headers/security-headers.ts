import { ConfigurationError, type Context, type Plugin } from '@org/core';
import { booleanOption, positiveInteger } from '@org/core/adapter';
import { TOKEN } from '../internal/field-name.js';

/** Options of the `Strict-Transport-Security` header (RFC 6797 section 6.1). */
export interface HstsOptions {
  /** Seconds browsers remember to use HTTPS only. @default 31536000 (one year) */
  maxAgeSeconds?: number;
  /** Apply to every subdomain too. @default true */
  includeSubDomains?: boolean;
  /** Ask to be on browsers' preload list (hstspreload.org); hard to undo. @default false */
  preload?: boolean;
}

/** Options of {@link securityHeaders}. Each header can be changed, or dropped with `false`. */
export interface SecurityHeadersOptions {
  /** A JSON API loads nothing and is framed by nobody. @default "default-src 'none'; frame-ancestors 'none'" */
  contentSecurityPolicy?: string | false;
  /** For browsers without CSP `frame-ancestors`. @default 'DENY' */
  frameOptions?: 'DENY' | 'SAMEORIGIN' | false;
  /** @default 'no-referrer' */
  referrerPolicy?: string | false;
  /** Who may embed responses with no-cors requests (CORS reads are unaffected). @default 'same-origin' */
  crossOriginResourcePolicy?: 'same-origin' | 'same-site' | 'cross-origin' | false;
  /**
   * `Strict-Transport-Security`. Only sent over HTTPS deployments, so it defaults to
   * on in production only: on `http://localhost` it would pin the browser to HTTPS.
   * @default process.env.NODE_ENV === 'production'
   */
  hsts?: boolean | HstsOptions;
  /** Headers that advertise the stack, removed from every response. @default ['X-Powered-By', 'Server'] */
  removeHeaders?: readonly string[];
}

const FACTORY = 'securityHeaders';

function hstsValue(option: boolean | HstsOptions): string | undefined {
  if (option === false) return undefined;
  const settings = option === true ? {} : option;
  const maxAge = positiveInteger(FACTORY, 'hsts.maxAgeSeconds', settings.maxAgeSeconds, 31_536_000);
  let value = `max-age=${maxAge}`;
  if (booleanOption(FACTORY, 'hsts.includeSubDomains', settings.includeSubDomains, true)) {
    value += '; includeSubDomains';
  }
  if (booleanOption(FACTORY, 'hsts.preload', settings.preload, false)) {
    if (maxAge < 31_536_000) {
      throw new ConfigurationError(
        `${FACTORY}: \`hsts.preload\` needs \`hsts.maxAgeSeconds\` of at least 31536000 (one year), as the preload list requires.`,
      );
    }
    value += '; preload';
  }
  return value;
}

class SecurityHeadersPlugin implements Plugin {
  readonly name = 'securityHeaders';
  readonly #set: readonly (readonly [string, string])[];
  readonly #remove: readonly string[];

  constructor(options: SecurityHeadersOptions) {
    const set: [string, string][] = [['x-content-type-options', 'nosniff']];
    const add = (name: string, value: string | false | undefined) => {
      if (value !== false && value !== undefined) {
        if (typeof value !== 'string' || /[\r\n]/.test(value)) {
          throw new ConfigurationError(
            `${FACTORY}: the ${name} value must be a one-line string or false.`,
          );
        }
        set.push([name, value]);
      }
    };
    add(
      'content-security-policy',
      options.contentSecurityPolicy ?? "default-src 'none'; frame-ancestors 'none'",
    );
    add('x-frame-options', options.frameOptions ?? 'DENY');
    add('referrer-policy', options.referrerPolicy ?? 'no-referrer');
    add('cross-origin-resource-policy', options.crossOriginResourcePolicy ?? 'same-origin');
    add(
      'strict-transport-security',
      hstsValue(options.hsts ?? process.env.NODE_ENV === 'production'),
    );
    this.#set = set;
    // Lower case once: each adapter would lower-case the names again on every request.
    // The defaults are written in lower case: toLowerCase() returns such a literal as it
    // is, and V8 looks a literal up in a header record faster than a string it made.
    this.#remove = (options.removeHeaders ?? ['x-powered-by', 'server']).map((name) => {
      if (typeof name !== 'string' || !TOKEN.test(name)) {
        throw new ConfigurationError(
          `${FACTORY}: removeHeaders must list header names; received ${JSON.stringify(name)}.`,
        );
      }
      return name.toLowerCase();
    });
  }

  onRequest(ctx: Context): void {
    for (const [name, value] of this.#set) ctx.setHeader(name, value);
    for (const name of this.#remove) ctx.removeHeader(name);
  }
}

/**
 * Security headers for JSON APIs on every response (200, 4xx and 5xx alike), as
 * OWASP's REST Security Cheat Sheet recommends. Put it first among the plugins so
 * even an early 429 or 404 carries them.
 *
 * @example
 * ```ts
 * createToolkit({ plugins: [securityHeaders({ hsts: { preload: true } }), cors({ origins })] });
 * ```
 */
export function securityHeaders(options: SecurityHeadersOptions = {}): Plugin {
  return new SecurityHeadersPlugin(options);
}
