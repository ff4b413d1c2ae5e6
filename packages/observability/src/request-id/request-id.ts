import { randomUUID } from 'node:crypto';
import { ConfigurationError, type Context, type Plugin, requestIdKey } from '@org/core';
import { functionOption } from '@org/core/adapter';
import {
  activeSpanContext,
  loadOpenTelemetry,
  parseTraceparent,
  traceContextKey,
} from './trace-context.js';

/** Options of {@link requestId}. */
export interface RequestIdOptions {
  /**
   * The header read from the request and echoed on the response.
   * @default 'x-request-id'
   */
  header?: string;
  /**
   * Accept a valid incoming id (one set by your proxy or the calling service). When
   * false, every request gets a fresh id.
   * @default true
   */
  trustIncoming?: boolean;
  /**
   * Makes a new id when none is accepted. Its output should match
   * `[A-Za-z0-9._-]{1,128}` like accepted ids.
   * @default crypto.randomUUID
   */
  generate?: () => string;
  /**
   * Read the W3C `traceparent` header (or the active OpenTelemetry span, when
   * `@opentelemetry/api` is installed) so log lines carry `trace_id` and `span_id`.
   * @default true
   */
  traceContext?: boolean;
}

/**
 * What an incoming id may look like. Anything else (spaces, quotes, CR/LF, over 128
 * characters, or two joined headers) is replaced, so ids are safe in logs and headers.
 */
export const SAFE_REQUEST_ID: RegExp = /^[A-Za-z0-9._-]{1,128}$/;

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * A plugin that gives every request an id: a valid incoming `X-Request-Id`, else a
 * new UUID. The id is stored on the context (`ctx.requestId`, so problem bodies carry
 * it as `request_id`), echoed on the response, and added to every log line written
 * while the request runs: the plugin declares `asyncContext: true`, so the toolkit
 * tracks each request and the logger finds it. Put it first in the toolkit's plugins.
 *
 * @example
 * ```ts
 * const toolkit = createToolkit({ plugins: [requestId(), accessLog({ logger })] });
 * ```
 */
export function requestId(options: RequestIdOptions = {}): Plugin {
  const header = (options.header ?? 'x-request-id').toLowerCase();
  if (!HEADER_NAME.test(header)) {
    throw new ConfigurationError(
      `requestId: header must be a valid HTTP header name; received ${JSON.stringify(options.header)}.`,
    );
  }
  const trustIncoming = options.trustIncoming ?? true;
  const generate =
    functionOption('requestId', 'generate', options.generate, undefined) ?? randomUUID;
  const readTrace = options.traceContext ?? true;
  const useOtel = readTrace && loadOpenTelemetry() !== undefined;

  return {
    name: 'request-id',
    // The logger finds the id of the request it logs for through getCurrentContext().
    asyncContext: true,
    onRequest(ctx: Context): void {
      const incoming = trustIncoming ? ctx.request.header(header) : undefined;
      const id = incoming !== undefined && SAFE_REQUEST_ID.test(incoming) ? incoming : generate();
      ctx.set(requestIdKey, id);
      ctx.setHeader(header, id);
      if (!readTrace) return;
      // An instrumented server already parsed traceparent into its span: prefer it.
      const trace =
        (useOtel ? activeSpanContext() : undefined) ??
        parseTraceparent(ctx.request.header('traceparent'));
      if (trace !== undefined) ctx.set(traceContextKey, trace);
    },
  };
}
