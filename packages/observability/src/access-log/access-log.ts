import type { Context, Plugin, ResponseInfo } from '@org/core';
import { ConfigurationError } from '@org/core';
import { functionOption } from '@org/core/adapter';
import { optionalLogger, type StructuredLogger } from '../internal/options.js';
import { type LinePrimitive, lineWriterOf } from '../logging/create-logger.js';
import { currentTraceContext } from '../request-id/trace-context.js';

/** Options of {@link accessLog}. */
export interface AccessLogOptions {
  /**
   * Where lines go: the logger from `createLogger()` (any pino logger works). A logger
   * made by `createLogger()` itself (not a child) gets each line written straight to its
   * destination, the same line its `info`/`error` would write, without going through
   * those methods; any other logger is called.
   */
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

/** The names of an access line's fields, in the order they are written. */
const FIELDS = [
  'request_id',
  'method',
  'route',
  'status',
  'duration_ms',
  'bytes',
  'client_ip',
  'aborted',
  'user_id',
  'trace_id',
  'span_id',
] as const satisfies readonly (keyof AccessLine)[];

/** The line as an object, for a logger without a direct writer; undefined fields left out. */
function lineOf(values: readonly LinePrimitive[]): AccessLine {
  const line: Record<string, unknown> = {};
  for (let i = 0; i < FIELDS.length; i++) {
    if (values[i] !== undefined) line[FIELDS[i] as string] = values[i];
  }
  return line as unknown as AccessLine;
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
  const skip = functionOption('accessLog', 'skip', options.skip, undefined);
  // createLogger()'s own loggers take the line without pino's serializer (same output).
  const direct = lineWriterOf(logger, FIELDS);

  return {
    name: 'access-log',
    onResponse(ctx: Context, info: ResponseInfo): void {
      if (skip?.(ctx, info) === true) return;
      // onResponse may run outside the request's async context: carry the ids explicitly
      // (the same choice as the logger's mixin: the active span first, else the request's).
      const trace = currentTraceContext(ctx);
      // In FIELDS' order.
      const values = [
        ctx.requestId,
        ctx.request.method,
        ctx.request.route ?? 'unmatched',
        info.status,
        Math.round(info.durationMs * 1000) / 1000,
        info.bytes,
        ctx.clientIp,
        info.aborted,
        ctx.principalId,
        trace?.traceId,
        trace?.spanId,
      ];
      const level = info.status >= 500 ? 'error' : 'info';
      if (direct !== undefined) direct(level, values, message);
      else logger[level](lineOf(values), message);
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
