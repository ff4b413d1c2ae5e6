import type { Context } from '../context/context.js';

/** A response any feature can produce without knowing the framework. */
export interface Reply {
  /**
   * Status code: an integer from 200 to 599. Any other is answered as a 500 problem,
   * the error (`ERR_INVALID_REPLY_STATUS`) reported to `onError`. @default 200
   */
  status?: number;
  /** Response headers. */
  headers?: Readonly<Record<string, string>>;
  /** A string or bytes are sent as they are; anything else as JSON. Undefined sends no body. */
  body?: unknown;
}

/** What a plugin learns when a response is done. */
export interface ResponseInfo {
  /** Final status code (0 when nothing was written). */
  readonly status: number;
  /** True when the client closed the connection first. */
  readonly aborted: boolean;
  /** The error that escaped the route, if any. */
  readonly error: unknown;
  /** Body bytes written, when the framework reports them. */
  readonly bytes: number;
  /** Milliseconds from arrival to finish. */
  readonly durationMs: number;
}

/**
 * Framework-neutral middleware for every request, matched or not: request ids,
 * security headers, CORS, access logs, metrics. Each hook is optional.
 *
 * @example
 * ```ts
 * const poweredBy: Plugin = { name: 'nosniff', onRequest: (ctx) => ctx.setHeader('x-content-type-options', 'nosniff') };
 * ```
 */
export interface Plugin {
  /** Name shown in errors and debugging. */
  readonly name: string;
  /**
   * Whether what this plugin serves reads `getCurrentContext()` from `@org/core/adapter`
   * (the request id a logger adds to each line): the toolkit then tracks each request
   * through its async calls, which costs every request. Only plugins turn it on.
   * @default false
   */
  readonly asyncContext?: boolean;
  /**
   * Runs first, before routing. May set headers or store values, throw an
   * `HttpError`, or return a {@link Reply} to answer at once (a CORS preflight).
   */
  onRequest?(ctx: Context): void | Reply | Promise<void | Reply>;
  /**
   * Runs once per request when the response finished or was aborted. What it throws goes
   * to the error hooks (else a process warning); it never reaches the client.
   */
  onResponse?(ctx: Context, info: ResponseInfo): void;
  /** Receives every error that produced a 5xx (and teardown failures). Must not throw. */
  onError?(error: unknown, ctx: Context | undefined): void;
}
