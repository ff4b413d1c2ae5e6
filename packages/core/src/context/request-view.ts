/**
 * The framework-neutral view of an incoming request. Adapters implement it lazily
 * over the framework's own request object: nothing is copied until it is read.
 */
export interface RequestView {
  /** Upper-case method, for example `GET`. */
  readonly method: string;
  /** The path as received, without the query string. Use {@link RequestView.route} for labels. */
  readonly path: string;
  /**
   * The matched route template (`/users/:id`), or undefined when no route matched or
   * the framework does not know it yet. Never the raw path.
   */
  readonly route: string | undefined;
  /** Path parameters of the matched route. */
  readonly params: Readonly<Record<string, string>>;
  /** The query string, parsed on first read. */
  readonly query: URLSearchParams;
  /** The socket's remote address as the framework reports it (no proxy headers). */
  readonly ip: string | undefined;
  /** The value of a header, case-insensitive; repeated headers joined as the framework does. */
  header(name: string): string | undefined;
  /** Every separate value of a header, case-insensitive, so duplicates can be detected. */
  headerValues(name: string): readonly string[];
  /** A cookie's value, parsed from the `Cookie` header on first use. */
  cookie(name: string): string | undefined;
  /**
   * The parsed body (JSON or `application/x-www-form-urlencoded`), read on first call
   * with the toolkit's limits; undefined when the request has none.
   * @throws {@link PayloadTooLargeError} (413), {@link UnsupportedMediaTypeError} (415),
   * {@link BadRequestError} (400) for malformed or too deeply nested JSON.
   */
  body(): Promise<unknown>;
}

/**
 * Parses a `Cookie` header (RFC 6265 section 4.2) into a map, first value wins.
 *
 * @example
 * ```ts
 * const cookies = parseCookieHeader('sid=abc; theme="dark"; sid=other');
 * cookies.get('sid'); // 'abc'
 * cookies.get('theme'); // 'dark'
 * ```
 */
export function parseCookieHeader(header: string | undefined): ReadonlyMap<string, string> {
  const cookies = new Map<string, string>();
  if (header === undefined || header === '') return cookies;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    if (cookies.has(name)) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
      value = value.slice(1, -1);
    try {
      cookies.set(name, decodeURIComponent(value));
    } catch {
      cookies.set(name, value);
    }
  }
  return cookies;
}
