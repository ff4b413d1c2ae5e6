import { request as httpRequest } from 'node:http';
import {
  ConfigurationError,
  type Context,
  clientIpKey,
  createToolkit,
  type Plugin,
  principalIdKey,
} from '@org/core';
import { adapters, deferred, type RunningApp } from '@org/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLogs, type LogCapture } from '../../test/log-capture.js';
import { createLogger } from '../logging/create-logger.js';
import { requestId } from '../request-id/request-id.js';
import { accessLog } from './access-log.js';

const SECRETS = {
  header: 'hdr-s3cr3t-0001',
  cookie: 'cookie-s3cr3t-0002',
  query: 'query-s3cr3t-0003',
  password: 'body-s3cr3t-0004',
  refresh: 'body-s3cr3t-0005',
};

describe('accessLog options', () => {
  it('requires a logger', () => {
    expect(() => accessLog({} as never)).toThrow(ConfigurationError);
    expect(() => accessLog({ logger: console as never, skip: 1 as never })).toThrow(/skip/);
  });

  it('writes the same line through the root logger and a child, escaping every field', () => {
    const logs = captureLogs();
    const logger = createLogger({ destination: logs.stream, base: { service: 'users' } });
    const viaRoot = accessLog({ logger, message: 'done "ok"' });
    const viaChild = accessLog({ logger: logger.child({}), message: 'done "ok"' });
    const contexts = [
      { requestId: 'r"1\u2028', method: 'GET', route: '/a/:b', clientIp: '::1', principalId: 'ü' },
      { requestId: undefined, method: 'PO"ST', route: undefined, clientIp: undefined },
      { requestId: 'a\\b\tc\ud800', method: 'GET', route: '/\u{1f600}', clientIp: '10.0.0.1' },
    ];
    const outcomes = [
      { status: 200, aborted: false, error: undefined, bytes: 50, durationMs: 1.23456 },
      { status: 503, aborted: true, error: new Error('x'), bytes: Number.NaN, durationMs: 0 },
      { status: 404, aborted: false, error: undefined, bytes: 1_234_567, durationMs: 12.3 },
      { status: 200, aborted: false, error: undefined, bytes: 0, durationMs: 1000.0004 },
      { status: 201, aborted: false, error: undefined, bytes: 1023, durationMs: 0.0005 },
      { status: 0, aborted: true, error: undefined, bytes: 1024, durationMs: 1023.9995 },
      { status: 200, aborted: false, error: undefined, bytes: 7, durationMs: 1024.025 },
      { status: 200, aborted: false, error: undefined, bytes: 7, durationMs: 0.1 + 0.2 },
      { status: 200, aborted: false, error: undefined, bytes: 7, durationMs: 98_765_432.1009 },
    ];
    for (const c of contexts) {
      const ctx = {
        requestId: c.requestId,
        request: { method: c.method, route: c.route },
        clientIp: c.clientIp,
        principalId: c.principalId,
        get: () => undefined,
      } as unknown as Context;
      for (const info of outcomes) {
        viaRoot.onResponse?.(ctx, info);
        viaChild.onResponse?.(ctx, info);
      }
    }
    const written = logs
      .text()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.replace(/"time":\d+/, '"time":0'));
    expect(written).toHaveLength(contexts.length * outcomes.length * 2);
    for (let i = 0; i < written.length; i += 2) expect(written[i]).toBe(written[i + 1]);
    expect(logs.lines.map((line) => line.level)).toEqual(
      contexts.flatMap(() =>
        outcomes.flatMap(({ status }) => (status >= 500 ? [50, 50] : [30, 30])),
      ),
    );
    expect(logs.lines.map((line) => line.duration_ms).slice(0, 18)).toEqual(
      [1.235, 0, 12.3, 1000, 0.001, 1024, 1024.025, 0.3, 98_765_432.101].flatMap((d) => [d, d]),
    );
    expect(logs.lines[0]).toMatchObject({
      service: 'users',
      request_id: 'r"1\u2028',
      msg: 'done "ok"',
    });
    // The second context's second outcome (NaN bytes).
    expect(logs.lines[(outcomes.length + 1) * 2]).toMatchObject({
      method: 'PO"ST',
      route: 'unmatched',
      bytes: null,
    });
  });

  it("hands the line to pino when one of its fields has the logger's own serializer", () => {
    const logs = captureLogs();
    const logger = createLogger({
      destination: logs.stream,
      serializers: { user_id: (id: string) => ({ id }) },
    });
    const ctx = {
      requestId: 'r1',
      request: { method: 'GET', route: '/me' },
      clientIp: '::1',
      principalId: 'u1',
      get: () => undefined,
    } as unknown as Context;
    accessLog({ logger }).onResponse?.(ctx, {
      status: 200,
      aborted: false,
      error: undefined,
      bytes: 2,
      durationMs: 1,
    });
    expect(logs.lines).toEqual([
      expect.objectContaining({ request_id: 'r1', route: '/me', user_id: { id: 'u1' } }),
    ]);
  });

  it('writes nothing below the logger level', () => {
    const logs = captureLogs();
    const logger = createLogger({ destination: logs.stream, level: 'error' });
    const plugin = accessLog({ logger });
    const ctx = { request: { method: 'GET' }, get: () => undefined } as unknown as Context;
    const info = { status: 200, aborted: false, error: undefined, bytes: 0, durationMs: 1 };
    plugin.onResponse?.(ctx, info);
    plugin.onResponse?.(ctx, { ...info, status: 500 });
    logger.level = 'silent';
    plugin.onResponse?.(ctx, { ...info, status: 500 });
    expect(logs.lines.map((line) => line.status)).toEqual([500]);
  });
});

describe.each(adapters)('accessLog on $name', (fixture) => {
  let app: RunningApp | undefined;
  let logs: LogCapture;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const start = async (extraPlugins: Plugin[] = []) => {
    logs = captureLogs();
    const logger = createLogger({ destination: logs.stream });
    const started = deferred();
    const toolkit = createToolkit({
      plugins: [requestId(), ...extraPlugins, accessLog({ logger })],
    });
    app = await fixture.start(toolkit, [
      {
        method: 'GET',
        path: '/users/:id',
        handler: async (ctx) => {
          logger.info({ step: 'before' }, 'handler start');
          await new Promise((resolve) => setImmediate(resolve));
          await Promise.all([1, 2].map(async (n) => logger.debug({ n }, 'parallel')));
          logger.info({ step: 'after', id: ctx.request.params.id }, 'handler end');
          return { body: { id: ctx.request.params.id } };
        },
      },
      {
        method: 'POST',
        path: '/login',
        handler: async (ctx) => {
          const body = await ctx.request.body();
          logger.info(
            {
              headers: {
                authorization: ctx.request.header('authorization'),
                cookie: ctx.request.header('cookie'),
              },
              body,
              url: `${ctx.request.path}?${ctx.request.query.toString()}`,
            },
            'login attempt',
          );
          return { body: { ok: true } };
        },
      },
      {
        method: 'GET',
        path: '/boom',
        handler: () => {
          throw new Error('database exploded');
        },
      },
      {
        method: 'GET',
        path: '/slow',
        handler: async (ctx) => {
          started.resolve();
          await new Promise<void>((resolve) =>
            ctx.signal.addEventListener('abort', () => resolve()),
          );
          return { body: 'late' };
        },
      },
    ]);
    return { url: app.url, started: started.promise };
  };

  const accessLineOf = (id: string) =>
    logs.waitFor((l) => l.request_id === id && l.msg === 'request completed');

  it('writes one line per request with method, route template, status, duration, bytes, ip', async () => {
    const { url } = await start();
    const response = await fetch(`${url}/users/42`, { headers: { 'x-request-id': 'one' } });
    await response.text();
    const line = await accessLineOf('one');
    expect(line).toMatchObject({
      level: 30,
      request_id: 'one',
      method: 'GET',
      route: '/users/:id',
      status: 200,
      client_ip: expect.stringMatching(/127\.0\.0\.1/),
      aborted: false,
    });
    expect(line.duration_ms).toBeTypeOf('number');
    expect(line.bytes).toBeTypeOf('number');
    expect(line).not.toHaveProperty('user_id');
    expect(JSON.stringify(line)).not.toContain('/users/42');

    await fetch(`${url}/nowhere/7`, { headers: { 'x-request-id': 'two' } });
    expect(await accessLineOf('two')).toMatchObject({ route: 'unmatched', status: 404 });
    expect(logs.lines.filter((l) => l.msg === 'request completed')).toHaveLength(2);
  });

  it('reports the body bytes sent', async () => {
    const { url } = await start();
    const response = await fetch(`${url}/users/12345`, { headers: { 'x-request-id': 'sized' } });
    const length = Buffer.byteLength(await response.text());
    expect(Number(response.headers.get('content-length'))).toBe(length);
    expect(await accessLineOf('sized')).toMatchObject({ bytes: length });
  });

  it('tags every line written during a request with that request id, under concurrency', async () => {
    const { url } = await start();
    const ids = Array.from({ length: 20 }, (_, i) => `req-${i}`);
    await Promise.all(
      ids.map((id, i) =>
        fetch(`${url}/users/${i}`, { headers: { 'x-request-id': id } }).then((r) => r.text()),
      ),
    );
    await Promise.all(ids.map(accessLineOf));
    for (const [i, id] of ids.entries()) {
      const lines = logs.lines.filter((l) => l.request_id === id);
      expect(lines.map((l) => l.msg)).toEqual([
        'handler start',
        'handler end',
        'request completed',
      ]);
      expect(lines[1]).toMatchObject({ id: String(i) });
    }
    expect(logs.lines.every((l) => typeof l.request_id === 'string')).toBe(true);
  });

  it('adds the principal and the resolved client ip when other packages set them', async () => {
    const identify: Plugin = {
      name: 'fake-auth',
      onRequest(ctx) {
        ctx.set(principalIdKey, 'user-7');
        ctx.set(clientIpKey, '203.0.113.9');
      },
    };
    const { url } = await start([identify]);
    await fetch(`${url}/users/1`, { headers: { 'x-request-id': 'authed' } });
    expect(await accessLineOf('authed')).toMatchObject({
      user_id: 'user-7',
      client_ip: '203.0.113.9',
    });
  });

  it('logs a 5xx at error level, and the error with its stack once', async () => {
    const { url } = await start();
    const response = await fetch(`${url}/boom`, { headers: { 'x-request-id': 'boom' } });
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain('database exploded');
    expect(await accessLineOf('boom')).toMatchObject({ level: 50, status: 500, route: '/boom' });
    const errorLine = await logs.waitFor((l) => l.msg === 'request failed');
    expect(errorLine).toMatchObject({ level: 50, request_id: 'boom', route: '/boom' });
    expect((errorLine.err as { stack: string }).stack).toContain('database exploded');
  });

  it('never writes a secret from headers, cookies, query or body', async () => {
    const { url } = await start();
    const response = await fetch(`${url}/login?access_token=${SECRETS.query}&next=/home`, {
      method: 'POST',
      headers: {
        'x-request-id': 'secrets',
        authorization: `Bearer ${SECRETS.header}`,
        cookie: `session=${SECRETS.cookie}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        email: 'a@example.com',
        password: SECRETS.password,
        device: { tokens: [{ refresh_token: SECRETS.refresh }] },
      }),
    });
    expect(response.status).toBe(200);
    const line = await logs.waitFor((l) => l.msg === 'login attempt');
    expect(line).toMatchObject({
      request_id: 'secrets',
      headers: { authorization: '[REDACTED]', cookie: '[REDACTED]' },
      body: { email: 'a@example.com', password: '[REDACTED]' },
    });
    await accessLineOf('secrets');
    for (const secret of Object.values(SECRETS)) expect(logs.text()).not.toContain(secret);
  });

  it('writes exactly one line, marked aborted, when the client goes away', async () => {
    const { url, started } = await start();
    const req = httpRequest(`${url}/slow`, { headers: { 'x-request-id': 'gone' } });
    req.on('error', () => {});
    req.end();
    await started;
    req.destroy();
    expect(await accessLineOf('gone')).toMatchObject({ aborted: true, route: '/slow' });
    // A later request's line proves the aborted one was not written twice meanwhile.
    await fetch(`${url}/users/1`, { headers: { 'x-request-id': 'after' } });
    await accessLineOf('after');
    expect(
      logs.lines.filter((l) => l.request_id === 'gone' && l.msg === 'request completed'),
    ).toHaveLength(1);
  });
});
