import { type Context, type ContextKey, createContextKey } from '@org/core';
import { loadOptionalPeer } from '../internal/optional-peer.js';

/** The W3C trace context of a request, as written into log lines. */
export interface TraceContext {
  /** 32 lower-case hex digits. */
  readonly traceId: string;
  /**
   * 16 lower-case hex digits: the active OpenTelemetry span when one exists, else the
   * caller's span (the `parent-id` of the incoming `traceparent`).
   */
  readonly spanId: string;
  /** Whether the caller sampled the trace (`trace-flags` bit 0). */
  readonly sampled: boolean;
}

/**
 * Where the request-id plugin stores the request's {@link TraceContext}.
 *
 * @example
 * ```ts
 * const trace = ctx.get(traceContextKey); // undefined without a traceparent or an active span
 * errorTracker.capture(error, { trace_id: trace?.traceId, span_id: trace?.spanId });
 * ```
 */
export const traceContextKey: ContextKey<TraceContext> =
  createContextKey<TraceContext>('traceContext');

const ALL_ZERO_TRACE = '00000000000000000000000000000000';
const ALL_ZERO_PARENT = '0000000000000000';
// W3C Trace Context section 3.2.2: version "-" trace-id "-" parent-id "-" trace-flags,
// lower-case hex only (upper case is invalid, section 3.2.2.2).
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-|$)/;

/**
 * Parses a `traceparent` header value (W3C Trace Context Level 1, section 3.2), or
 * returns undefined when it is absent or invalid, in which case the caller starts a
 * new trace (section 3.2.2: an invalid header is ignored).
 *
 * @example
 * ```ts
 * parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
 * // { traceId: '4bf9...4736', spanId: '00f067aa0ba902b7', sampled: true }
 * ```
 */
export function parseTraceparent(header: string | undefined): TraceContext | undefined {
  if (header === undefined || header.length < 55) return undefined;
  const value = header.trim();
  const match = TRACEPARENT.exec(value);
  if (match === null) return undefined;
  const [, version, traceId, parentId, flags, rest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  // 3.2.2.1: version ff is forbidden. Version 00 has exactly four fields; a later
  // version may append fields after a dash (3.2.4, forward compatibility).
  if (version === 'ff') return undefined;
  if (version === '00' && (rest !== '' || value.length !== 55)) return undefined;
  // 3.2.2.3 and 3.2.2.4: all-zero trace-id and parent-id are invalid.
  if (traceId === ALL_ZERO_TRACE || parentId === ALL_ZERO_PARENT) return undefined;
  // 3.2.2.5: only the sampled bit is defined; other bits are kept out of our decision.
  const sampled = (Number.parseInt(flags, 16) & 1) === 1;
  return { traceId, spanId: parentId, sampled };
}

/** The part of `@opentelemetry/api` this package calls. */
interface OtelApi {
  trace: {
    getActiveSpan():
      | { spanContext(): { traceId: string; spanId: string; traceFlags: number } }
      | undefined;
    isSpanContextValid(context: { traceId: string; spanId: string }): boolean;
  };
}

let otel: OtelApi | null | undefined;

/** Loads `@opentelemetry/api` once, if installed. */
export function loadOpenTelemetry(): OtelApi | undefined {
  if (otel === undefined) otel = loadOptionalPeer<OtelApi>('@opentelemetry/api') ?? null;
  return otel ?? undefined;
}

/** The active OpenTelemetry span's ids, when the API is installed and a valid span is active. */
export function activeSpanContext(): TraceContext | undefined {
  const api = otel ?? undefined;
  if (api === undefined) return undefined;
  const span = api.trace.getActiveSpan();
  if (span === undefined) return undefined;
  const context = span.spanContext();
  if (!api.trace.isSpanContextValid(context)) return undefined;
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    sampled: (context.traceFlags & 1) === 1,
  };
}

/** The trace ids for a log line: the active span first, else what the request carried. */
export function currentTraceContext(ctx: Context | undefined): TraceContext | undefined {
  return activeSpanContext() ?? ctx?.get(traceContextKey);
}
