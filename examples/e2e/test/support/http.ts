import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';

/** A response with lower-case header names and the body parsed when it is JSON. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Parsed for JSON and `+json` media types, else the text. */
  readonly body: unknown;
  readonly text: string;
}

/** One request's options; at most one of `json`, `form` and `body`. */
export interface RequestOptions {
  headers?: Readonly<Record<string, string>>;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  json?: unknown;
  form?: Readonly<Record<string, string>>;
  /** Sent as it is; set `content-type` yourself. */
  body?: string;
}

const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/** HTTP calls to one example. Paths are sent exactly as written (`//api/v1/users` stays so). */
export class Api {
  readonly #host: string;
  readonly #port: number;

  constructor(baseUrl: string) {
    const url = new URL(baseUrl);
    this.#host = url.hostname;
    this.#port = Number(url.port);
  }

  /** `http://host:port` of the example. */
  get baseUrl(): string {
    return `http://${this.#host}:${this.#port}`;
  }

  request(method: string, path: string, options: RequestOptions = {}): Promise<HttpResponse> {
    const headers: Record<string, string> = { ...options.headers };
    let payload: string | undefined;
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (options.json !== undefined) {
      payload = JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    } else if (options.form !== undefined) {
      payload = new URLSearchParams(options.form).toString();
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
    } else {
      payload = options.body;
    }
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest(
        { host: this.#host, port: this.#port, method, path, headers, agent: false },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('error', reject);
          incoming.on('end', () => {
            const flat: Record<string, string> = {};
            for (const [name, value] of Object.entries(incoming.headers)) {
              if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
            }
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = text;
            if (JSON_TYPE.test(flat['content-type'] ?? '') && text !== '') {
              try {
                body = JSON.parse(text);
              } catch {
                body = text;
              }
            }
            resolve({ status: incoming.statusCode ?? 0, headers: flat, body, text });
          });
        },
      );
      outgoing.on('error', reject);
      outgoing.end(payload);
    });
  }

  get(path: string, options?: RequestOptions) {
    return this.request('GET', path, options);
  }
  post(path: string, options?: RequestOptions) {
    return this.request('POST', path, options);
  }
  patch(path: string, options?: RequestOptions) {
    return this.request('PATCH', path, options);
  }
  delete(path: string, options?: RequestOptions) {
    return this.request('DELETE', path, options);
  }

  /** Registers a fresh user (one password hash on the server). */
  async register(prefix = 'user'): Promise<Account> {
    const email = uniqueEmail(prefix);
    const password = 'correct horse battery staple';
    const registered = await this.post('/api/v1/auth/register', { json: { email, password } });
    if (registered.status !== 201) throw unexpected('register', registered);
    return { email, password, id: (registered.body as { id: string }).id };
  }

  /** Registers a fresh user and signs in; returns the credentials and the token pair. */
  async signUp(prefix = 'user'): Promise<Session> {
    const account = await this.register(prefix);
    return { ...account, ...(await this.login(account.email, account.password)) };
  }

  /** Signs in with JSON; throws unless 200. */
  async login(email: string, password: string): Promise<TokenPair> {
    const response = await this.post('/api/v1/auth/login', { json: { email, password } });
    if (response.status !== 200) throw unexpected('login', response);
    return response.body as TokenPair;
  }
}

/** An OAuth2 token response. */
export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
}

/** A registered test user. */
export interface Account {
  id: string;
  email: string;
  password: string;
}

/** A signed-in test user. */
export interface Session extends Account, TokenPair {}

/** An email no other test uses. */
export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${randomUUID().slice(0, 12)}@example.com`;
}

function unexpected(what: string, response: HttpResponse): Error {
  return new Error(`${what} answered ${response.status}: ${response.text.slice(0, 500)}`);
}
