import { TestingError } from '../errors/testing-error.js';
import { detectApp } from '../internal/app-kind.js';
import { transportFor, type WireRequest } from '../internal/transports.js';

/**
 * Anything {@link createRequester} can call: a fastify instance, a hono app, an
 * express or koa app, an `@org/core/node` app, a `(req, res)` listener, an
 * `http.Server`, or the base URL of a running service.
 */
export type RequestTarget = object | string | URL;

/** One request's options. At most one of `json`, `form` and `body`. */
export interface TestRequestOptions {
  /** Request headers; an array sends the header once per value (over real HTTP). @default {} */
  headers?: Readonly<Record<string, string | readonly string[]>>;
  /** Sent as JSON with `content-type: application/json`. */
  json?: unknown;
  /** Sent URL-encoded with `content-type: application/x-www-form-urlencoded` (an OAuth2 login form). */
  form?: Readonly<Record<string, string>> | URLSearchParams;
  /** Sent as it is; set `content-type` yourself. */
  body?: string | Uint8Array;
  /** Query parameters appended to the path. @default none */
  query?: Readonly<Record<string, string | number | boolean>>;
}

/** A response, the same whichever app kind answered it. */
export interface TestResponse {
  /** Status code. */
  readonly status: number;
  /** Response headers with lower-case names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  /** Each `Set-Cookie` header separately. */
  readonly setCookie: readonly string[];
  /**
   * The JSON value when the content type is JSON or a `+json` type
   * (`application/problem+json`, `application/health+json`), else the text.
   * Undefined for an empty JSON body.
   */
  readonly body: unknown;
  /** The raw body as text. */
  readonly text: string;
}

/** Sends requests to one app in-process (or to a loopback port it starts). */
export interface Requester extends AsyncDisposable {
  /** Sends any method. */
  request(method: string, path: string, options?: TestRequestOptions): Promise<TestResponse>;
  /** Sends a `GET` to `path` (relative to the app, `/users/me`). */
  get(path: string, options?: TestRequestOptions): Promise<TestResponse>;
  /** Sends a `POST`, usually with `json`, `form` or `body`. */
  post(path: string, options?: TestRequestOptions): Promise<TestResponse>;
  /** Sends a `PUT`. */
  put(path: string, options?: TestRequestOptions): Promise<TestResponse>;
  /** Sends a `PATCH`. */
  patch(path: string, options?: TestRequestOptions): Promise<TestResponse>;
  /** Sends a `DELETE`. */
  delete(path: string, options?: TestRequestOptions): Promise<TestResponse>;
  /** Closes the server the requester started, if any. The app itself is left alone. */
  close(): Promise<void>;
}

const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

function parseBody(contentType: string | undefined, text: string): unknown {
  if (contentType === undefined || !JSON_TYPE.test(contentType)) return text;
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function prepare(method: string, path: string, options: TestRequestOptions): WireRequest {
  const given = (['json', 'form', 'body'] as const).filter((name) => options[name] !== undefined);
  if (given.length > 1) {
    throw new TestingError(
      'ERR_INVALID_REQUEST',
      `Pass at most one of json, form and body; received ${given.join(' and ')}.`,
    );
  }
  const headers: Record<string, string | readonly string[]> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    headers[name.toLowerCase()] = value;
  }
  let body: Buffer | undefined;
  let type: string | undefined;
  if (options.json !== undefined) {
    body = Buffer.from(JSON.stringify(options.json));
    type = 'application/json';
  } else if (options.form !== undefined) {
    body = Buffer.from(new URLSearchParams(options.form as Record<string, string>).toString());
    type = 'application/x-www-form-urlencoded';
  } else if (options.body !== undefined) {
    body = Buffer.from(options.body);
  }
  if (type !== undefined && headers['content-type'] === undefined) headers['content-type'] = type;
  // node:http sends DELETE bodies without a length unless told: say it, for every method.
  if (body !== undefined && headers['content-length'] === undefined) {
    headers['content-length'] = String(body.length);
  }
  let target = path.startsWith('/') ? path : `/${path}`;
  if (options.query !== undefined) {
    const query = new URLSearchParams(
      Object.entries(options.query).map(([key, value]) => [key, String(value)]),
    ).toString();
    if (query !== '') target += `${target.includes('?') ? '&' : '?'}${query}`;
  }
  return { method: method.toUpperCase(), path: target, headers, body };
}

/**
 * Creates an in-process request helper for any app kind, detected by shape (no
 * framework is imported): fastify through `inject`, hono through `app.request`,
 * everything else over real HTTP on a `127.0.0.1` port opened at the first request
 * and closed by `close()`. A string or URL sends to a running service.
 *
 * @example
 * ```ts
 * const api = createRequester(app); // fastify, hono, express, koa, node, http.Server or a URL
 * const res = await api.post('/api/v1/auth/login', { json: { email, password } });
 * expect(res.status).toBe(200);
 * const me = await api.get('/api/v1/users/me', {
 *   headers: { authorization: `Bearer ${(res.body as { access_token: string }).access_token}` },
 * });
 * await api.close();
 * ```
 * @throws {@link TestingError} `ERR_UNSUPPORTED_APP` when `app` is none of the kinds above.
 */
export function createRequester(app: RequestTarget): Requester {
  const kind = detectApp(app);
  if (kind === undefined) {
    throw new TestingError(
      'ERR_UNSUPPORTED_APP',
      'createRequester takes a fastify instance, a hono app, an express or koa app, an @org/core/node app, a (req, res) listener, an http.Server or a base URL.',
    );
  }
  const transport = transportFor(kind);
  const request = async (
    method: string,
    path: string,
    options: TestRequestOptions = {},
  ): Promise<TestResponse> => {
    const response = await transport.send(prepare(method, path, options));
    return { ...response, body: parseBody(response.headers['content-type'], response.text) };
  };
  return {
    request,
    get: (path, options) => request('GET', path, options),
    post: (path, options) => request('POST', path, options),
    put: (path, options) => request('PUT', path, options),
    patch: (path, options) => request('PATCH', path, options),
    delete: (path, options) => request('DELETE', path, options),
    close: () => transport.close(),
    [Symbol.asyncDispose]: () => transport.close(),
  };
}
