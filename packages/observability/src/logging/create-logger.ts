import { Writable } from 'node:stream';
import { ConfigurationError } from '@org/core';
import { getCurrentContext, positiveInteger } from '@org/core/adapter';
import pino, { type DestinationStream, type Logger, type LoggerOptions as PinoOptions } from 'pino';
import { loadOptionalPeer } from '../internal/optional-peer.js';
import { currentTraceContext, loadOpenTelemetry } from '../request-id/trace-context.js';
import { fileDestination } from './file-destination.js';
import { createRedactor, DEFAULT_REDACT_FIELDS, REDACTED } from './redact.js';

/** A pino level name, or `silent`. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** The least severe level written. @default 'info' */
  level?: LogLevel;
  /**
   * Human-readable lines through `pino-pretty` (an optional peer) for development.
   * When it is not installed, lines stay JSON. Keep it off in production.
   * @default false
   */
  pretty?: boolean;
  /**
   * Where lines go: any stream with `write(line)`, for example {@link fileDestination}.
   * @default standard output through `fileDestination({ fd: 1 })`: one write per event-loop turn
   */
  destination?: DestinationStream;
  /**
   * More field names to redact at any depth, added to {@link DEFAULT_REDACT_FIELDS}
   * (case, `-` and `_` are ignored when matching). The same names are masked as query
   * parameters in any logged string.
   * @default []
   */
  redactFields?: readonly string[];
  /** Deepest object nesting written; deeper values read `[Truncated]`. @default 8 */
  maxDepth?: number;
  /** Fields on every line, for example `{ service: 'users-api' }`. @default pino's `pid` and `hostname` */
  base?: Record<string, unknown>;
  /** Extra pino serializers by field name; their output is redacted too. @default {} */
  serializers?: Record<string, (value: never) => unknown>;
}

const LEVELS: ReadonlySet<string> = new Set([
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
]);

let stdoutDestination: DestinationStream | undefined;

/** The default destination, one for every logger of the process. */
function standardOutput(): DestinationStream {
  stdoutDestination ??= fileDestination({ fd: 1 });
  return stdoutDestination;
}

type PrettyFactory = (options: Record<string, unknown>) => DestinationStream;

function prettyStream(destination: DestinationStream | undefined): DestinationStream | undefined {
  const loaded = loadOptionalPeer<unknown>('pino-pretty');
  const factory =
    typeof loaded === 'function' ? loaded : (loaded as { default?: unknown } | undefined)?.default;
  if (typeof factory !== 'function') return undefined;
  // pino-pretty pipes into a real stream: wrap a bare `{ write }` destination.
  const target =
    destination === undefined || typeof (destination as Partial<Writable>).on === 'function'
      ? destination
      : new Writable({
          write(chunk: Buffer, _encoding, callback) {
            destination.write(chunk.toString());
            callback();
          },
        });
  return (factory as PrettyFactory)({
    destination: target ?? 1,
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
  });
}

/**
 * Creates the pino logger of a service: JSON lines (or pretty ones in development),
 * secrets redacted at any depth, and `request_id`, `trace_id` and `span_id` added to
 * every line written while a request is handled, from any code, through the
 * toolkit's AsyncLocalStorage.
 *
 * @example
 * ```ts
 * const logger = createLogger({ level: 'info', pretty: process.env.NODE_ENV === 'development' });
 * logger.info({ userId }, 'user created'); // {"level":30,...,"request_id":"...","msg":"user created"}
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  if (!LEVELS.has(level)) {
    throw new ConfigurationError(
      `createLogger: level must be one of ${[...LEVELS].join(', ')}; received ${JSON.stringify(level)}.`,
    );
  }
  const extra = options.redactFields ?? [];
  if (!Array.isArray(extra) || extra.some((f) => typeof f !== 'string' || f === '')) {
    throw new ConfigurationError('createLogger: redactFields must be an array of field names.');
  }
  const maxDepth = positiveInteger('createLogger', 'maxDepth', options.maxDepth, 8);
  const redactor = createRedactor([...DEFAULT_REDACT_FIELDS, ...extra], maxDepth);
  loadOpenTelemetry();

  // The error serializer (stack, cause) and any custom ones run after formatters.log,
  // so their output gets its own pass.
  const serializers: Record<string, (value: never) => unknown> = {
    err: pino.stdSerializers.err,
    ...options.serializers,
  };
  const redactedSerializers: Record<string, (value: unknown) => unknown> = {};
  for (const [name, serialize] of Object.entries(serializers)) {
    redactedSerializers[name] = (value) => redactor.value(serialize(value as never), 1);
  }

  // pino runs formatters.bindings on the root's bindings only: each child's are checked
  // once, and from the first that holds a secret on, lines are redacted as written.
  let redactWrittenLines = false;

  const pinoOptions: PinoOptions = {
    level,
    serializers: redactedSerializers,
    formatters: {
      // `object` is the fresh object pino built from mixin() and the call's fields, so
      // top-level keys are replaced in place; nested values are copied on write.
      log(object: Record<string, unknown>): Record<string, unknown> {
        for (const key of Object.keys(object)) {
          if (key in redactedSerializers) continue;
          const current = object[key];
          const next = redactor.isSecretKey(key) ? REDACTED : redactor.value(current, 1);
          if (next !== current) object[key] = next;
        }
        return object;
      },
      bindings: (bindings: Record<string, unknown>) =>
        redactor.value(bindings) as Record<string, unknown>,
    },
    hooks: {
      // The message string itself: `logger.info('callback ?code=..&access_token=..')`.
      logMethod(args: unknown[], method) {
        for (let i = 0; i < args.length; i++) {
          const arg = args[i];
          if (typeof arg === 'string') args[i] = redactor.text(arg);
        }
        return method.apply(this, args as Parameters<typeof method>);
      },
      streamWrite: (line: string): string => (redactWrittenLines ? redactor.line(line) : line),
    },
    onChild(child: Logger): void {
      if (redactWrittenLines) return;
      const bindings = child.bindings();
      if (redactor.value(bindings) !== bindings) redactWrittenLines = true;
    },
    mixin(): Record<string, unknown> {
      const ctx = getCurrentContext();
      const fields: Record<string, unknown> = {};
      const id = ctx?.requestId;
      if (id !== undefined) fields.request_id = id;
      const trace = currentTraceContext(ctx);
      if (trace !== undefined) {
        fields.trace_id = trace.traceId;
        fields.span_id = trace.spanId;
      }
      return fields;
    },
  };
  if (options.base !== undefined) pinoOptions.base = options.base;

  const destination =
    (options.pretty === true ? prettyStream(options.destination) : undefined) ??
    options.destination;
  return pino(pinoOptions, destination ?? standardOutput());
}
