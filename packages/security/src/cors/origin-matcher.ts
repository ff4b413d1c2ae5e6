import { ConfigurationError, type Context } from '@org/core';

/** Which origins may read responses: exact origins, anchored RegExps, or a function. */
export type CorsOrigins =
  | '*'
  | readonly (string | RegExp)[]
  | ((origin: string, ctx: Context) => boolean);

/** Decides whether one `Origin` value is allowed. */
export type OriginMatcher = (origin: string, ctx: Context) => boolean;

const ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/[^/?#\s@]+$/;

function exactOrigin(entry: string, factory: string): string {
  if (entry === 'null') return entry;
  const lower = entry.toLowerCase();
  if (lower.includes('*')) {
    throw new ConfigurationError(
      `${factory}: origin ${JSON.stringify(entry)} has a wildcard; list origins exactly or use an anchored RegExp such as /^https:\\/\\/[a-z0-9-]+\\.example\\.com$/.`,
    );
  }
  if (!ORIGIN.test(lower)) {
    throw new ConfigurationError(
      `${factory}: origin ${JSON.stringify(entry)} is not an origin. Write scheme://host[:port] with no path or trailing slash, for example "https://app.example.com".`,
    );
  }
  return lower;
}

function anchoredPattern(pattern: RegExp, factory: string): RegExp {
  const source = pattern.source;
  // An unanchored pattern matches inside a longer origin: /example\.com/ allows
  // https://example.com.evil.net. A trailing `\$` is an escaped dollar, not an anchor.
  const anchoredEnd = source.endsWith('$') && !source.endsWith('\\$');
  if (!source.startsWith('^') || !anchoredEnd) {
    throw new ConfigurationError(
      `${factory}: origin pattern ${String(pattern)} must be anchored with ^ and $, or it also matches longer, hostile origins.`,
    );
  }
  if (pattern.global || pattern.sticky) {
    throw new ConfigurationError(
      `${factory}: origin pattern ${String(pattern)} must not use the g or y flag: \`lastIndex\` would make its answers alternate.`,
    );
  }
  return pattern;
}

/**
 * Compiles the allow-list once. `null` (sandboxed iframes, `file:` pages, some
 * redirects) is allowed only when the exact string `'null'` is listed: patterns
 * and functions never see it.
 */
export function compileOrigins(origins: CorsOrigins, factory: string): OriginMatcher {
  if (typeof origins === 'function')
    return (origin, ctx) => origin !== 'null' && origins(origin, ctx);
  if (!Array.isArray(origins)) {
    throw new ConfigurationError(
      `${factory}: \`origins\` must be '*', a list of origins and anchored RegExps, or a function.`,
    );
  }
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  for (const entry of origins as readonly (string | RegExp)[]) {
    if (entry instanceof RegExp) patterns.push(anchoredPattern(entry, factory));
    else if (entry === '*') {
      throw new ConfigurationError(
        `${factory}: '*' cannot be mixed with other origins; pass origins: '*' on its own.`,
      );
    } else if (typeof entry === 'string') exact.add(exactOrigin(entry, factory));
    else {
      throw new ConfigurationError(`${factory}: each origin must be a string or a RegExp.`);
    }
  }
  if (patterns.length === 0) return (origin) => exact.has(origin);
  return (origin) => {
    if (exact.has(origin)) return true;
    if (origin === 'null') return false;
    for (const pattern of patterns) if (pattern.test(origin)) return true;
    return false;
  };
}
