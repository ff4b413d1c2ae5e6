import { hostname } from 'node:os';
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

type AnyFields = Record<string, unknown>;

/** mixin()'s answer when a line needs no field added: never written to. */
const NOTHING: AnyFields = Object.freeze({}) as AnyFields;

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
  const serialized: ReadonlySet<string> = new Set(Object.keys(redactedSerializers));

  // pino runs formatters.bindings on the root's bindings only: each child's are checked
  // once, and from the first that holds a secret on, lines are redacted as written.
  let redactWrittenLines = false;

  const pinoOptions: PinoOptions = {
    level,
    serializers: redactedSerializers,
    formatters: {
      // `object` may be the caller's own (see mixinMergeStrategy): copied before a change.
      log(object: Record<string, unknown>): Record<string, unknown> {
        let out = object;
        for (const key of Object.keys(object)) {
          if (serialized.has(key)) continue;
          const current = object[key];
          const next = redactor.isSecretKey(key) ? REDACTED : redactor.value(current, 1);
          if (next === current) continue;
          if (out === object) out = { ...object };
          out[key] = next;
        }
        return out;
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
    mixin(mergeObject: object): Record<string, unknown> {
      const ctx = getCurrentContext();
      const id = ctx?.requestId;
      const trace = currentTraceContext(ctx);
      // A line that carries its own request id (the access log's) needs nothing added.
      const addId = id !== undefined && (mergeObject as AnyFields).request_id === undefined;
      if (!addId && trace === undefined) return NOTHING;
      const fields: Record<string, unknown> = {};
      if (addId) fields.request_id = id;
      if (trace !== undefined) {
        fields.trace_id = trace.traceId;
        fields.span_id = trace.spanId;
      }
      return fields;
    },
    // pino's default, Object.assign(mixinObject, mergeObject), copies every field of
    // every line; with nothing to add, the call's object is used as it is.
    mixinMergeStrategy: (mergeObject: object, mixinObject: object): object =>
      mixinObject === NOTHING ? mergeObject : Object.assign(mixinObject, mergeObject),
  };
  if (options.base !== undefined) pinoOptions.base = options.base;

  const pretty = options.pretty === true ? prettyStream(options.destination) : undefined;
  const stream = pretty ?? options.destination ?? standardOutput();
  const logger = pino(pinoOptions, stream);
  const bindings =
    pretty === undefined ? primitiveBindings(redactor.value(pinoBase(options))) : undefined;
  if (bindings !== undefined) {
    lineWriters.set(logger, (keys) => {
      // A serializer's field goes through pino: so does every line that has one.
      if (keys.some((key) => serialized.has(key))) return undefined;
      // What each field needs, worked out once: its `,"key":`, and whether it is a secret's.
      const starts = keys.map(memberStart);
      const secret = keys.map((key) => redactor.isSecretKey(key));
      // The message is the same constant line after line, and so are most text fields
      // (method, route, client address): each slot (the fields, then the message) keeps
      // its last text and that text's JSON, and only a new text is redacted and quoted.
      const messageSlot = keys.length;
      const lastText: (string | undefined)[] = Array.from(
        { length: messageSlot + 1 },
        () => undefined,
      );
      const lastJson: string[] = Array.from({ length: messageSlot + 1 }, () => '');
      const textJson = (slot: number, text: string): string => {
        if (text !== lastText[slot]) {
          lastText[slot] = text;
          lastJson[slot] = redactor.json(text);
        }
        return lastJson[slot] as string;
      };
      return (level, values, message) => {
        if (!logger.isLevelEnabled(level)) return;
        let line = `${LINE_START[level]}${Date.now()}${bindings}`;
        for (let i = 0; i < starts.length; i++) {
          const value = values[i];
          if (value === undefined) continue;
          line += `${starts[i]}${secret[i] ? REDACTED_JSON : typeof value === 'string' ? textJson(i, value) : primitiveJson(value)}`;
        }
        line += `,"msg":${textJson(messageSlot, message)}}\n`;
        stream.write(redactWrittenLines ? redactor.line(line) : line);
      };
    });
  }
  return logger;
}

/** A field value {@link LineWriter} writes: what an access line holds. */
export type LinePrimitive = string | number | boolean | undefined;

/**
 * Writes one line of fixed fields, `values[i]` under the writer's `keys[i]` (undefined
 * ones left out), as `logger[level](fields, message)` would, character for character
 * (pino's level, time, bindings, the fields redacted, then `msg`), without pino's
 * general-purpose serializer: about 1 µs less per line, on the access log's line per
 * request.
 */
export type LineWriter = (
  level: 'info' | 'error',
  values: readonly LinePrimitive[],
  message: string,
) => void;

const lineWriters = new WeakMap<Logger, (keys: readonly string[]) => LineWriter | undefined>();

/**
 * The direct {@link LineWriter} of a logger made by {@link createLogger}, for lines of
 * `keys` (each field's plan worked out here, once): undefined for any other logger (a
 * child, a pretty one, one whose `base` holds objects, another library's), and when a
 * key has a serializer; those lines are written through the logger's methods.
 */
export function lineWriterOf(logger: object, keys: readonly string[]): LineWriter | undefined {
  return lineWriters.get(logger as Logger)?.(keys);
}

// pino's numeric levels and its default `time` (epoch milliseconds).
const LINE_START = { info: '{"level":30,"time":', error: '{"level":50,"time":' } as const;
const REDACTED_JSON = JSON.stringify(REDACTED);
/** Binding names pino leaves out of a line. */
const PINO_OPTION_KEYS: ReadonlySet<string> = new Set([
  'level',
  'serializers',
  'formatters',
  'customLevels',
]);

/** The value types {@link primitiveJson} writes as pino does. */
const LINE_TYPES: ReadonlySet<string> = new Set(['string', 'number', 'boolean']);

const memberStarts = new Map<string, string>();

/** `,"key":`, kept for the few field names lines use. */
function memberStart(key: string): string {
  let start = memberStarts.get(key);
  if (start === undefined) {
    start = `,${JSON.stringify(key)}:`;
    if (memberStarts.size < 256) memberStarts.set(key, start);
  }
  return start;
}

/** Printable ASCII without `"` and `\`: a JSON string as it is, quoted. */
const PLAIN_JSON_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]{0,64}$/;

/** A primitive as pino writes it: a non-finite number is `null`. */
function primitiveJson(value: LinePrimitive): string {
  if (typeof value === 'string') {
    // About 40% cheaper than JSON.stringify for the short ids and names of an access line.
    return PLAIN_JSON_STRING.test(value) ? `"${value}"` : JSON.stringify(value);
  }
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  return String(value);
}

/** The root bindings pino writes on every line: `options.base`, or its default pid and hostname. */
function pinoBase(options: LoggerOptions): Record<string, unknown> {
  return options.base ?? { pid: process.pid, hostname: hostname() };
}

/**
 * The bindings as they follow `time` on each line (`,"pid":1,"hostname":"h"`), when all
 * are primitives; undefined otherwise (pino serializes objects its own way).
 */
function primitiveBindings(base: unknown): string | undefined {
  let out = '';
  for (const [key, value] of Object.entries(base as Record<string, unknown>)) {
    if (value === undefined) continue;
    if (PINO_OPTION_KEYS.has(key)) return undefined;
    if (value === null) out += `${memberStart(key)}null`;
    else if (LINE_TYPES.has(typeof value))
      out += `${memberStart(key)}${primitiveJson(value as LinePrimitive)}`;
    else return undefined;
  }
  return out;
}
