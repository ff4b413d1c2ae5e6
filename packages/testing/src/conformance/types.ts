import type { TestClock } from '../clock/test-clock.js';
import type { RequestTarget, TestRequestOptions } from '../requests/requester.js';
import type { TokenFactory } from '../tokens/token-factory.js';

/** The routes the suite attacks. A group whose route is missing is not registered (and says so). */
export interface ConformanceRoutes {
  /** GET route that needs any signed-in user: `/api/v1/users/me`. */
  protected: string;
  /** GET route only the `admin` role may call: `/api/v1/users`. @default the 401-vs-403 group is skipped */
  admin?: string;
  /** POST login: OAuth2 form or JSON, answering `{ access_token, refresh_token }`. @default login-based checks are skipped */
  login?: string;
  /** POST `{ refresh_token }` for a new pair. @default the refresh group is skipped */
  refresh?: string;
  /** POST `{ refresh_token }` to revoke the family. @default the logout check is skipped */
  logout?: string;
  /** GET the public keys (JWKS), for the key-confusion forgeries. @default those forgeries need `tokenFactory` */
  jwks?: string;
  /** GET route limited per client IP. @default the rate-limit group is skipped */
  rateLimited?: string;
  /** GET route anyone may call with 200 (`/healthz`), for headers on success. @default `jwks`, else none */
  public?: string;
}

/**
 * How the app issues and revokes API keys, for the `api-keys` group. The suite
 * creates keys as the `user` (its access token as Bearer), uses them on
 * `routes.protected` and revokes them.
 */
export interface ConformanceApiKeys {
  /** POST route creating a key for the caller, answering it in the body: `/api/v1/api-keys`. */
  create: string;
  /** DELETE route revoking a key, with `:id` for its id: `/api/v1/api-keys/:id`. */
  revoke: string;
  /** JSON body of the create request. @default `{ name: 'security conformance' }` */
  createBody?: Readonly<Record<string, unknown>>;
  /** Member of the create answer holding the key. @default 'key' */
  keyField?: string;
  /** Member of the create answer holding the key's id, put in place of `:id`. @default 'id' */
  idField?: string;
  /** GET route listing the caller's keys; its answer must not hold a key. @default not called */
  list?: string;
  /** Header that carries a key besides `Authorization: Bearer`; `false` for Bearer only. @default 'x-api-key' */
  header?: string | false;
  /**
   * The app's log so far (lines, or one text), searched for every key the group made
   * (and each key's secret part). @default the log is not searched
   */
  logs?: () => string | readonly string[] | Promise<string | readonly string[]>;
}

/** A user the suite signs in as. */
export interface ConformanceCredentials {
  /** The login name, sent as `username` by the default `loginRequest`. */
  username: string;
  /** The password, sent as `password` by the default `loginRequest`. */
  password: string;
}

/** Options of `securityConformance` and `createConformanceChecks`. Give `app` or `baseUrl`. */
export interface SecurityConformanceOptions {
  /** The app: anything `createRequester` takes (fastify, hono, express, koa, node, http.Server). */
  app?: RequestTarget;
  /** Or the base URL of a running service. */
  baseUrl?: string;
  /** Title of the outer `describe`. @default 'security conformance' */
  name?: string;
  /** Route paths. */
  routes: ConformanceRoutes;
  /** Users to sign in as through `routes.login`; `user` must not hold the admin role. */
  credentials?: {
    /** A user without the admin role. */
    user: ConformanceCredentials;
    /**
     * A user with the admin role.
     * @default the admin token comes from `tokens.admin` or `tokenFactory`, else its check is skipped
     */
    admin?: ConformanceCredentials;
  };
  /** Ready access tokens instead of signing in (`user` without admin role). */
  tokens?: {
    /** An access token of a user without the admin role. */
    user: string;
    /**
     * An access token of a user with the admin role.
     * @default signed in with `credentials.admin`, else minted by `tokenFactory`, else its check is skipped
     */
    admin?: string;
  };
  /**
   * A factory signing with the app's own key: adds the forgeries that need it
   * (expired, wrong `aud`/`iss`, unknown `crit`...), and provides tokens when
   * neither `credentials` nor `tokens` do. @default those forgeries are skipped
   */
  tokenFactory?: TokenFactory;
  /** Subjects and roles for factory-minted tokens. @default `{ user: { subject: 'user-1', roles: ['user'] }, admin: { subject: 'admin-1', roles: ['admin'] } }` */
  tokenSubjects?: {
    /** The non-admin user. @default `{ subject: 'user-1', roles: ['user'] }` */
    user?: {
      /** The token's `sub`. */
      subject: string;
      /** The token's `roles` claim. */
      roles: readonly string[];
    };
    /** The admin. @default `{ subject: 'admin-1', roles: ['admin'] }` */
    admin?: {
      /** The token's `sub`. */
      subject: string;
      /** The token's `roles` claim: must hold the role `routes.admin` requires. */
      roles: readonly string[];
    };
  };
  /** How a login request carries credentials. @default an OAuth2 password form (`username`, `password`, `grant_type`) */
  loginRequest?: (credentials: ConformanceCredentials) => TestRequestOptions;
  /** An origin the app's CORS allow-list holds, for the CORS group. @default the CORS group is skipped */
  cors?: {
    /** The origin, scheme and host only (`https://app.example.com`, no trailing slash). */
    allowedOrigin: string;
  };
  /**
   * API keys, when the app accepts them: adds the `api-keys` group (a revoked or
   * altered key refused, a key never echoed nor logged).
   * @default the api-keys group is skipped
   */
  apiKeys?: ConformanceApiKeys;
  /** The limit of `routes.rateLimited` per client and window. @default the rate-limit group is skipped */
  rateLimit?: {
    /** Requests allowed per client and window, 1 to 10000: the suite expects a 429 within `limit + 1` requests. */
    limit: number;
  };
  /**
   * The app's clock. After the rate-limit group it is advanced by `Retry-After` to
   * check that the client may call again. @default that check is skipped
   */
  clock?: TestClock;
  /** Response header carrying the request id. `false` skips the group. @default 'x-request-id' */
  requestIdHeader?: string | false;
  /**
   * Security headers every response must carry (exact string or RegExp). `false` skips the group.
   * @default the @org/security JSON API set: nosniff, no-referrer, CSP default-src 'none', DENY, same-origin
   */
  securityHeaders?: false | Readonly<Record<string, string | RegExp>>;
  /** Where skipped groups and checks are reported. @default console.warn */
  log?: (message: string) => void;
}

/** The groups of the suite, in the order they run. */
export type ConformanceGroupId =
  | 'token-forgery'
  | 'auth-challenge'
  | 'refresh'
  | 'problem-json'
  | 'security-headers'
  | 'cors'
  | 'request-id'
  | 'api-keys'
  | 'rate-limit';

/** One check: a plain async function that resolves, or rejects with a `ConformanceError`. */
export interface ConformanceCheck {
  /** `<group>/<check>`, stable: `token-forgery/alg-none`. */
  readonly id: string;
  /** What must hold, as a test title. */
  readonly title: string;
  /** Runs the check. Rejects with `ConformanceError` on a violation, `ConformanceSkip` when it cannot apply. */
  run(): Promise<void>;
}

/** A group of checks sharing one concern (and, for rate limits, one window). */
export interface ConformanceGroup {
  /** Which group this is; also the first part of each of its check ids. */
  readonly id: ConformanceGroupId;
  /** What the group proves, as a `describe` title. */
  readonly title: string;
  /** Its checks, in the order they run. */
  readonly checks: readonly ConformanceCheck[];
}
