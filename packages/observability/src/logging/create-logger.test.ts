import { type ContextManager, context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { ConfigurationError } from '@org/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { captureLogs } from '../../test/log-capture.js';
import { accessLog } from '../access-log/access-log.js';
import { createLogger, lineWriterOf } from './create-logger.js';

const SECRETS = ['s3cr3t-auth', 's3cr3t-cookie', 's3cr3t-pass', 's3cr3t-refresh', 's3cr3t-query'];

describe('createLogger', () => {
  it('writes JSON lines at the configured level and above', () => {
    const logs = captureLogs();
    const logger = createLogger({ level: 'warn', destination: logs.stream });
    logger.info('hidden');
    logger.warn({ n: 1 }, 'shown');
    expect(logs.lines).toHaveLength(1);
    expect(logs.lines[0]).toMatchObject({ level: 40, n: 1, msg: 'shown' });
  });

  it('rejects a bad level or maxDepth at construction, naming the option', () => {
    expect(() => createLogger({ level: 'loud' as never })).toThrow(ConfigurationError);
    expect(() => createLogger({ level: 'loud' as never })).toThrow(/level/);
    expect(() => createLogger({ maxDepth: 0 })).toThrow(/maxDepth/);
    expect(() => createLogger({ redactFields: [''] })).toThrow(/redactFields/);
  });

  it('redacts secret fields at any depth, whatever their spelling, without touching the input', () => {
    const logs = captureLogs();
    const logger = createLogger({ destination: logs.stream });
    const input = {
      headers: { authorization: 'Bearer s3cr3t-auth', Cookie: 's3cr3t-cookie', accept: 'json' },
      body: {
        user: { profile: { settings: { password: 's3cr3t-pass', theme: 'dark' } } },
        sessions: [{ refreshToken: 's3cr3t-refresh' }, { id: 2 }],
      },
    };
    const before = structuredClone(input);
    logger.info(input, 'request');
    expect(input).toEqual(before);
    expect(logs.lines[0]).toMatchObject({
      headers: { authorization: '[REDACTED]', Cookie: '[REDACTED]', accept: 'json' },
      body: {
        user: { profile: { settings: { password: '[REDACTED]', theme: 'dark' } } },
        sessions: [{ refreshToken: '[REDACTED]' }, { id: 2 }],
      },
    });
    for (const secret of SECRETS) expect(logs.text()).not.toContain(secret);
  });

  it('masks tokens in query strings, credentials and JSON text, in messages and values', () => {
    const logs = captureLogs();
    const logger = createLogger({ destination: logs.stream });
    logger.info('callback /cb?code=1&access_token=s3cr3t-query&state=x');
    logger.info({ url: '/x?token=s3cr3t-query#top', note: 'auth was Bearer s3cr3t-auth' }, 'v');
    logger.info({ raw: '{"password":"s3cr3t-pass","name":"ann"}' }, 'json text');
    logger.info('%s then %s', 'refresh_token=s3cr3t-refresh', 'ok');
    expect(logs.lines[0]?.msg).toBe('callback /cb?code=1&access_token=[REDACTED]&state=x');
    expect(logs.lines[1]).toMatchObject({
      url: '/x?token=[REDACTED]#top',
      note: 'auth was Bearer [REDACTED]',
    });
    expect(logs.lines[2]?.raw).toBe('{"password":"[REDACTED]","name":"ann"}');
    for (const secret of SECRETS) expect(logs.text()).not.toContain(secret);
  });

  it('redacts inside errors (an HTTP client error carrying request headers) and keeps the stack', () => {
    const logs = captureLogs();
    const logger = createLogger({ destination: logs.stream });
    const error = Object.assign(new Error('upstream said 401'), {
      config: { headers: { Authorization: 'Bearer s3cr3t-auth' } },
    });
    logger.error({ err: error, nested: { cause: error } }, 'call failed');
    logger.error(error);
    const redactedConfig = { headers: { Authorization: '[REDACTED]' } };
    expect(logs.lines[0]).toMatchObject({
      err: { stack: expect.stringContaining('upstream said 401'), config: redactedConfig },
      nested: { cause: { config: redactedConfig } },
    });
    expect(logs.lines[1]).toMatchObject({ err: { type: 'Error', config: redactedConfig } });
    expect(logs.text()).not.toContain('s3cr3t-auth');
  });

  it('redacts child bindings, extra field names and truncates past maxDepth', () => {
    const logs = captureLogs();
    const logger = createLogger({ destination: logs.stream, redactFields: ['ssn'], maxDepth: 3 });
    logger.child({ secret: 's3cr3t-pass' }).info({ ssn: '123-45', a: { b: { c: { d: 1 } } } }, 'x');
    expect(logs.lines[0]).toMatchObject({
      secret: '[REDACTED]',
      ssn: '[REDACTED]',
      a: { b: { c: '[Truncated]' } },
    });
  });

  it('redacts the bindings of children at any depth, whatever their spelling', () => {
    const logs = captureLogs();
    const logger = createLogger({ destination: logs.stream });
    const clean = logger.child({ component: 'billing' });
    clean.info('before any secret binding');
    const grandchild = clean
      .child({ upstream: { headers: { 'Refresh-Token': 's3cr3t-refresh' } } })
      .child({ callback: '/cb?access_token=s3cr3t-query', auth: 'Bearer s3cr3t-auth' });
    grandchild.info({ n: 1 }, 'deep');
    grandchild.child({ id_token: 's3cr3t-pass' }, { msgPrefix: '[x] ' }).warn('with options');
    clean.info('after');
    expect(logs.lines[1]).toMatchObject({
      component: 'billing',
      upstream: { headers: { 'Refresh-Token': '[REDACTED]' } },
      callback: '/cb?access_token=[REDACTED]',
      auth: 'Bearer [REDACTED]',
      n: 1,
      msg: 'deep',
    });
    expect(logs.lines[2]).toMatchObject({ id_token: '[REDACTED]', msg: '[x] with options' });
    expect(logs.lines.map((line) => line.msg)).toEqual([
      'before any secret binding',
      'deep',
      '[x] with options',
      'after',
    ]);
    for (const secret of SECRETS) expect(logs.text()).not.toContain(secret);
  });

  it('truncates child bindings past maxDepth', () => {
    const logs = captureLogs();
    const logger = createLogger({ destination: logs.stream, maxDepth: 2 });
    logger.child({ a: { b: { c: 1 } } }).info('deep binding');
    expect(logs.lines[0]).toMatchObject({ a: { b: '[Truncated]' }, msg: 'deep binding' });
  });

  it('adds nothing request-related outside a request', () => {
    const logs = captureLogs();
    createLogger({ destination: logs.stream }).info('boot');
    expect(logs.lines[0]).not.toHaveProperty('request_id');
    expect(logs.lines[0]).not.toHaveProperty('trace_id');
  });

  it('writes pretty lines through pino-pretty when asked', () => {
    const chunks: string[] = [];
    const logger = createLogger({
      pretty: true,
      destination: { write: (line: string) => void chunks.push(line) },
    });
    logger.info({ password: 's3cr3t-pass' }, 'hello pretty');
    const text = chunks.join('');
    expect(text).toContain('hello pretty');
    expect(text).toContain('INFO');
    expect(() => JSON.parse(text)).toThrow();
    expect(text).not.toContain('s3cr3t-pass');
  });
});

describe('the direct line writer of createLogger', () => {
  const withoutTime = (text: string) => text.replaceAll(/"time":\d+/g, '"time":0');

  /** The same fields and message through pino (`logger[level]`) and through the direct writer. */
  function bothWays(
    options: Parameters<typeof createLogger>[0],
    level: 'info' | 'error',
    fields: Record<string, string | number | boolean | undefined>,
    message: string,
  ) {
    const viaPino = captureLogs();
    createLogger({ ...options, destination: viaPino.stream })[level]({ ...fields }, message);
    const direct = captureLogs();
    const keys = Object.keys(fields);
    const writer = lineWriterOf(createLogger({ ...options, destination: direct.stream }), keys);
    expect(writer).toBeDefined();
    writer?.(
      level,
      keys.map((key) => fields[key]),
      message,
    );
    return { pino: withoutTime(viaPino.text()), direct: withoutTime(direct.text()) };
  }

  it('writes the line pino writes, character for character', () => {
    const fields = {
      request_id: 'req-1',
      method: 'GET',
      route: '/users/:id',
      status: 200,
      duration_ms: 1.234,
      bytes: 57,
      client_ip: '192.0.2.1',
      aborted: false,
      user_id: 'ann "the admin"\n\u00e9\u2028',
      skipped: undefined,
      nan: Number.NaN,
    };
    const { pino, direct } = bothWays({}, 'info', fields, 'request completed');
    expect(direct).toBe(pino);
    expect(JSON.parse(direct)).toMatchObject({
      level: 30,
      pid: process.pid,
      nan: null,
      msg: 'request completed',
    });
  });

  it('redacts as pino does: secret fields, credentials in values and the message', () => {
    const { pino, direct } = bothWays(
      { redactFields: ['client_ip'], base: { service: 'api', version: 3 } },
      'error',
      { client_ip: '192.0.2.1', note: 'sent Bearer s3cr3t-auth', route: '/x?token=s3cr3t-query' },
      'failed ?access_token=s3cr3t-query',
    );
    expect(direct).toBe(pino);
    expect(JSON.parse(direct)).toMatchObject({
      level: 50,
      service: 'api',
      client_ip: '[REDACTED]',
    });
    for (const secret of SECRETS) expect(direct).not.toContain(secret);
  });

  it('writes each line’s own values when one writer writes many, repeated or not', () => {
    const viaPino = captureLogs();
    const pinoLogger = createLogger({ destination: viaPino.stream });
    const direct = captureLogs();
    const keys = ['route', 'note'];
    const writer = lineWriterOf(createLogger({ destination: direct.stream }), keys);
    const lines: [string | undefined, string | undefined][] = [
      ['/a', 'plain'],
      ['/a', 'plain'],
      ['/a?token=s3cr3t-query', undefined],
      ['/a', 'sent Bearer s3cr3t-auth'],
      ['/a?token=s3cr3t-query', 'sent Bearer s3cr3t-auth'],
      ['/b', 'plain'],
    ];
    for (const values of lines) {
      pinoLogger.info({ route: values[0], note: values[1] }, 'x');
      writer?.('info', values, 'x');
    }
    expect(withoutTime(direct.text())).toBe(withoutTime(viaPino.text()));
    for (const secret of SECRETS) expect(direct.text()).not.toContain(secret);
  });

  it.each([
    ['an id at the 64-character bound', 'a'.repeat(64)],
    ['one character past it', 'a'.repeat(65)],
    ['a space', 'GET /x'],
    ['an equals sign', 'token=s3cr3t-query'],
    ['a quote', 'say "hi"'],
    ['a backslash', 'C:\\temp'],
    ['a control character', 'tab\there'],
    ['a credential after a tab', 'Bearer\ts3cr3t-auth'],
    ['non-ASCII text', 'caf\u00e9'],
    ['an empty string', ''],
  ])('writes a value with %s as pino does', (_name, value) => {
    const { pino, direct } = bothWays({}, 'info', { value }, 'x');
    expect(direct).toBe(pino);
    for (const secret of SECRETS) expect(direct).not.toContain(secret);
  });

  it('leaves lines with a field that has its own serializer to pino', () => {
    const logger = createLogger({
      serializers: { user_id: (id: never) => ({ id }) },
      destination: captureLogs().stream,
    });
    expect(lineWriterOf(logger, ['user_id', 'status'])).toBeUndefined();
    expect(lineWriterOf(logger, ['status'])).toBeDefined();
  });

  it("follows the logger's level as it changes", () => {
    const logs = captureLogs();
    const logger = createLogger({ destination: logs.stream });
    const write = lineWriterOf(logger, ['status']);
    logger.level = 'error';
    write?.('info', [200], 'quiet');
    write?.('error', [500], 'loud');
    expect(logs.lines.map((line) => line.msg)).toEqual(['loud']);
  });

  it('exists only for the loggers it can write for exactly', () => {
    const logger = createLogger({ destination: captureLogs().stream });
    const keys = ['status'];
    expect(lineWriterOf(logger.child({ component: 'x' }), keys)).toBeUndefined();
    const nested = createLogger({ base: { deploy: { region: 'eu' } } });
    expect(lineWriterOf(nested, keys)).toBeUndefined();
    const pretty = createLogger({ pretty: true, destination: { write: () => undefined } });
    expect(lineWriterOf(pretty, keys)).toBeUndefined();
    expect(lineWriterOf({ info() {}, warn() {}, error() {} }, keys)).toBeUndefined();
  });

  it('never changes the object a caller logs, even to redact a top-level field', () => {
    const logs = captureLogs();
    const input = { password: 's3cr3t-pass', note: 'Bearer s3cr3t-auth', n: 1 };
    createLogger({ destination: logs.stream }).info(input, 'x');
    expect(input).toEqual({ password: 's3cr3t-pass', note: 'Bearer s3cr3t-auth', n: 1 });
    expect(logs.lines[0]).toMatchObject({
      password: '[REDACTED]',
      note: 'Bearer [REDACTED]',
      n: 1,
    });
  });
});

describe('createLogger with OpenTelemetry', () => {
  /** A synchronous context manager: enough to make a span active around a call. */
  const stack = [ROOT_CONTEXT];
  const manager: ContextManager = {
    active: () => stack[stack.length - 1] ?? ROOT_CONTEXT,
    with(ctx, fn, thisArg, ...args) {
      stack.push(ctx);
      try {
        return fn.call(thisArg, ...args);
      } finally {
        stack.pop();
      }
    },
    bind: (_ctx, target) => target,
    enable() {
      return manager;
    },
    disable() {
      return manager;
    },
  };
  afterEach(() => context.disable());

  it('takes trace_id and span_id from the active span', () => {
    context.setGlobalContextManager(manager);
    const logs = captureLogs();
    const logger = createLogger({ destination: logs.stream });
    const span = trace.wrapSpanContext({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
    });
    context.with(trace.setSpan(ROOT_CONTEXT, span), () => logger.info('in span'));
    logger.info('no span');
    expect(logs.lines[0]).toMatchObject({
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: '00f067aa0ba902b7',
    });
    expect(logs.lines[1]).not.toHaveProperty('trace_id');
  });

  it('gives an access line the active span, its own request id, and no field twice', () => {
    context.setGlobalContextManager(manager);
    const logs = captureLogs();
    const plugin = accessLog({ logger: createLogger({ destination: logs.stream }) });
    const ctx = {
      requestId: 'req-1',
      clientIp: '192.0.2.1',
      principalId: undefined,
      request: { method: 'GET', route: '/users/:id' },
      get: () => undefined,
    };
    const span = trace.wrapSpanContext({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
    });
    const info = { status: 200, aborted: false, bytes: 2, durationMs: 1.5 };
    context.with(trace.setSpan(ROOT_CONTEXT, span), () =>
      plugin.onResponse?.(ctx as never, info as never),
    );
    expect(logs.lines[0]).toMatchObject({
      request_id: 'req-1',
      route: '/users/:id',
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: '00f067aa0ba902b7',
      msg: 'request completed',
    });
    expect(logs.text().match(/"request_id"/g)).toHaveLength(1);
  });
});

describe('createLogger without pino-pretty', () => {
  afterEach(() => {
    vi.doUnmock('../internal/optional-peer.js');
    vi.resetModules();
  });

  it('falls back to JSON lines', async () => {
    vi.resetModules();
    vi.doMock('../internal/optional-peer.js', () => ({ loadOptionalPeer: () => undefined }));
    const { createLogger: createWithoutPeers } = await import('./create-logger.js');
    const logs = captureLogs();
    createWithoutPeers({ pretty: true, destination: logs.stream }).info('still json');
    expect(logs.lines[0]).toMatchObject({ level: 30, msg: 'still json' });
  });
});
