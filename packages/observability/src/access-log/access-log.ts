import type { Context, Plugin, ResponseInfo } from '@org/core';
import { ConfigurationError } from '@org/core';
import { optionalFunction, optionalLogger, type StructuredLogger } from '../internal/options.js';
import { PREPARED_LINE, preparedLineWriter } from '../internal/prepared-line.js';
import { currentTraceContext } from '../request-id/trace-context.js';

/** Options of {@link accessLog}. */
export interface AccessLogOptions {
  /** Where lines go: the logger from {@link createLogger} (any pino logger works). */
  logger: StructuredLogger;
  /** The `msg` of each access line. @default 'request completed' */
  message?: string;
  /** The `msg` of each error line written by `onError`. @default 'request failed' */
  errorMessage?: string;
  /**
   * Return true to write no line for a request (for example `/healthz` hit by a
   * probe every second). Called once per request, after the response.
   * @default every request is logged
   */
  skip?: (ctx: Context, info: ResponseInfo) => boolean;
}

/** One access line, as written (besides pino's own `level`, `time`, `msg`). */
export interface AccessLine {
  /** The request id the request-id plugin assigned; undefined without that plugin. */
  request_id: string | undefined;
  /** The request method, as received (`GET`). */
  method: string;
  /** The matched route template, or `unmatched`: never the raw path, which may carry ids or PII. */
  route: string;
  /** Final status; 0 when the client left before a response started. */
  status: number;
  /** Milliseconds from the request's arrival to the response's end, to the microsecond (three decimals). */
  duration_ms: number;
  /** Response body size in bytes, from its `Content-Length`; 0 when the length was not declared (streamed). */
  bytes: number;
  /** The client IP: the trusted-proxy resolution of the security package when installed, else the socket address. */
  client_ip: string | undefined;
  /** Present when the request was authenticated. */
  user_id?: string;
  /** True when the client closed the connection before the response completed. */
  aborted: boolean;
  /**
   * W3C trace id (32 hex digits), present when the request-id plugin read one: from an
   * active OpenTelemetry span or a valid `traceparent` header.
   */
  trace_id?: string;
  /** W3C span id (16 hex digits), with `trace_id`: the active OpenTelemetry span's, else the caller's (`parent-id`). */
  span_id?: string;
}

/** Characters a JSON string must escape, and lone surrogates (escaped by JSON.stringify). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what JSON escapes (RFC 8259 section 7).
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;

/**
 * A JSON string. Most values here (method, route, IP, ids) need no escaping, and
 * quoting them costs a third of `JSON.stringify`'s fixed price (about 50 ns a call).
 */
const json = (text: string): string =>
  NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;

/** The decimal text of 0 to 1023, made once: statuses, small byte counts, whole milliseconds. */
const SMALL_INTEGERS: readonly string[] = Array.from({ length: 1024 }, (_, n) => n.toFixed(0));

/** The decimals of 0 to 999 thousandths, trailing zeros dropped: '' for 0, '.5' for 500, '.025' for 25. */
const THOUSANDTHS: readonly string[] = Array.from({ length: 1000 }, (_, n) =>
  n === 0 ? '' : `.${n.toFixed(0).padStart(3, '0').replace(/0+$/, '')}`,
);

/**
 * A JSON integer (pino writes a non-finite number as null), past V8's number-to-string
 * cache: `${n}` keeps each new string in that cache, so a value that differs on every
 * request stays alive through young-generation collections and under load V8 grows the
 * young generation (see the rate-limit headers in @org/security for the measurement).
 * Small values come from a table (`toFixed` costs about 50 ns).
 */
function integer(n: number): string {
  if (n >= 0 && n < 1024 && Number.isInteger(n)) return SMALL_INTEGERS[n] as string;
  return Number.isFinite(n) ? n.toFixed(0) : 'null';
}

/** A JSON number with at most three decimals, written as `${n}` would write it, past the cache. */
function decimal3(n: number): string {
  if (!Number.isFinite(n)) return 'null';
  const thousandths = Math.round(n * 1000);
  if (thousandths >= 0 && thousandths < 1024 * 1000) {
    const whole = Math.trunc(thousandths / 1000);
    return (SMALL_INTEGERS[whole] as string) + THOUSANDTHS[thousandths - whole * 1000];
  }
  const text = n.toFixed(3);
  let end = text.length;
  while (text.charCodeAt(end - 1) === 48 /* 0 */) end--;
  if (text.charCodeAt(end - 1) === 46 /* . */) end--;
  return end === text.length ? text : text.slice(0, end);
}

/**
 * The members of `line` as JSON text without braces, in the line's key order and
 * leaving out undefined values, as pino writes them.
 */
function toJsonMembers(line: AccessLine): string {
  let text = line.request_id === undefined ? '' : `"request_id":${json(line.request_id)},`;
  text += `"method":${json(line.method)},"route":${json(line.route)},"status":${integer(line.status)}`;
  text += `,"duration_ms":${decimal3(line.duration_ms)},"bytes":${integer(line.bytes)}`;
  if (line.client_ip !== undefined) text += `,"client_ip":${json(line.client_ip)}`;
  text += `,"aborted":${line.aborted}`;
  if (line.user_id !== undefined) text += `,"user_id":${json(line.user_id)}`;
  if (line.trace_id !== undefined) text += `,"trace_id":${json(line.trace_id)}`;
  if (line.span_id !== undefined) text += `,"span_id":${json(line.span_id)}`;
  return text;
}

/**
 * A plugin that writes exactly one line per request when it finishes or is aborted
 * (5xx at `error` level, everything else at `info`), and logs every 5xx error with
 * its stack. Status, duration and bytes come from the adapter; the client IP from
 * the security package's resolver when installed; the user id from auth.
 *
 * @example
 * ```ts
 * const logger = createLogger();
 * const toolkit = createToolkit({ plugins: [requestId(), accessLog({ logger })] });
 * ```
 */
export function accessLog(options: AccessLogOptions): Plugin {
  const logger = optionalLogger('accessLog', 'logger', options?.logger, ['info', 'error']);
  if (logger === undefined) {
    throw new ConfigurationError(
      'accessLog: logger is required; pass the logger from createLogger().',
    );
  }
  const message = options.message ?? 'request completed';
  const errorMessage = options.errorMessage ?? 'request failed';
  const skip = optionalFunction('accessLog', 'skip', options.skip);
  // A root logger from createLogger takes the line as JSON text (no object walk).
  const write = preparedLineWriter(logger, message);

  return {
    name: 'access-log',
    onResponse(ctx: Context, info: ResponseInfo): void {
      if (skip?.(ctx, info) === true) return;
      const line: AccessLine & { [PREPARED_LINE]: true } = {
        [PREPARED_LINE]: true,
        request_id: ctx.requestId,
        method: ctx.request.method,
        route: ctx.request.route ?? 'unmatched',
        status: info.status,
        duration_ms: Math.round(info.durationMs * 1000) / 1000,
        bytes: info.bytes,
        client_ip: ctx.clientIp,
        aborted: info.aborted,
      };
      const userId = ctx.principalId;
      if (userId !== undefined) line.user_id = userId;
      // onResponse may run outside the request's async context: carry the ids explicitly
      // (the same choice as the logger's mixin: the active span first, else the request's).
      const trace = currentTraceContext(ctx);
      if (trace !== undefined) {
        line.trace_id = trace.traceId;
        line.span_id = trace.spanId;
      }
      if (write !== undefined) write(info.status >= 500 ? 50 : 30, toJsonMembers(line));
      else if (info.status >= 500) logger.error(line, message);
      else logger.info(line, message);
    },
    onError(error: unknown, ctx: Context | undefined): void {
      logger.error(
        {
          err: error,
          request_id: ctx?.requestId,
          method: ctx?.request.method,
          route: ctx === undefined ? undefined : (ctx.request.route ?? 'unmatched'),
        },
        errorMessage,
      );
    },
  };
}
