import {
  Context,
  createToolkit,
  parseCookieHeader,
  type RequestView,
  type Toolkit,
} from '@org/core';

/**
 * A context without a server, for this package's unit tests only (never exported):
 * limiters and resolvers are exercised thousands of times without HTTP.
 */

/** What a {@link fakeContext} request looks like. */
export interface FakeRequest {
  ip?: string;
  method?: string;
  path?: string;
  route?: string;
  headers?: Record<string, string>;
}

class FakeView implements RequestView {
  readonly method: string;
  readonly path: string;
  readonly route: string | undefined;
  readonly params = {};
  readonly query = new URLSearchParams();
  readonly ip: string | undefined;
  readonly #headers: Map<string, string>;
  constructor(request: FakeRequest) {
    this.method = request.method ?? 'GET';
    this.path = request.path ?? '/';
    this.route = request.route;
    this.ip = request.ip;
    this.#headers = new Map(
      Object.entries(request.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
    );
  }
  header(name: string): string | undefined {
    return this.#headers.get(name.toLowerCase());
  }
  headerValues(name: string): readonly string[] {
    const value = this.header(name);
    return value === undefined ? [] : [value];
  }
  cookie(name: string): string | undefined {
    return parseCookieHeader(this.header('cookie')).get(name);
  }
  body(): Promise<unknown> {
    return Promise.resolve(undefined);
  }
}

/** A context whose response headers are a plain map, readable by tests. */
export class FakeContext extends Context {
  readonly responseHeaders = new Map<string, string>();
  readonly headersSent = false;
  setHeader(name: string, value: string): void {
    this.responseHeaders.set(name.toLowerCase(), value);
  }
  appendHeader(name: string, value: string): void {
    const key = name.toLowerCase();
    const previous = this.responseHeaders.get(key);
    this.responseHeaders.set(key, previous === undefined ? value : `${previous}, ${value}`);
  }
  removeHeader(name: string): void {
    this.responseHeaders.delete(name.toLowerCase());
  }
}

const sharedToolkit = createToolkit();

/** A context for one fake request. */
export function fakeContext(
  request: FakeRequest = {},
  toolkit: Toolkit = sharedToolkit,
): FakeContext {
  return new FakeContext(new FakeView(request), toolkit);
}

/** A clock tests move by hand. */
export class ManualClock {
  #now: number;
  constructor(start = Date.UTC(2030, 0, 1)) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  advance(ms: number): void {
    this.#now += ms;
  }
  set(ms: number): void {
    this.#now = ms;
  }
}
