import type { Context, Plugin, ResponseInfo } from '@org/core';
import { ConfigurationError } from '@org/core';
import { optionalFunction, optionalLogger, type StructuredLogger } from '../internal/options.js';
import { traceContextKey } from '../request-id/trace-context.js';

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
  request_id: string | undefined;
  method: string;
  /** The matched route template, or `unmatched`: never the raw path, which may carry ids or PII. */
  route: string;
  /** Final status; 0 when the client left before a response started. */
  status: number;
  duration_ms: number;
  bytes: number;
  client_ip: string | undefined;
  /** Present when the request was authenticated. */
  user_id?: string;
  /** True when the client closed the connection before the response completed. */
  aborted: boolean;
  trace_id?: string;
  span_id?: string;
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

  return {
    name: 'access-log',
    onResponse(ctx: Context, info: ResponseInfo): void {
      if (skip?.(ctx, info) === true) return;
      const line: AccessLine = {
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
      // onResponse may run outside the request's async context: carry the ids explicitly.
      const trace = ctx.get(traceContextKey);
      if (trace !== undefined) {
        line.trace_id = trace.traceId;
        line.span_id = trace.spanId;
      }
      if (info.status >= 500) logger.error(line, message);
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
