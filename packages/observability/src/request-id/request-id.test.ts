import { ConfigurationError, createToolkit, NotFoundError } from '@org/core';
import { adapters, type RunningApp } from '@org/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLogs } from '../../test/log-capture.js';
import { createLogger } from '../logging/create-logger.js';
import { requestId } from './request-id.js';
import { parseTraceparent } from './trace-context.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('parseTraceparent (W3C Trace Context section 3.2)', () => {
  it('accepts a version 00 header and reads the sampled flag', () => {
    expect(parseTraceparent(`00-${TRACE_ID}-${PARENT_ID}-01`)).toEqual({
      traceId: TRACE_ID,
      spanId: PARENT_ID,
      sampled: true,
    });
    expect(parseTraceparent(`00-${TRACE_ID}-${PARENT_ID}-00`)?.sampled).toBe(false);
  });

  it('accepts a future version with extra fields (section 3.2.4)', () => {
    expect(parseTraceparent(`cc-${TRACE_ID}-${PARENT_ID}-01-what-the-future-holds`)).toMatchObject({
      traceId: TRACE_ID,
    });
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['version ff', `ff-${TRACE_ID}-${PARENT_ID}-01`],
    ['version 00 with a fifth field', `00-${TRACE_ID}-${PARENT_ID}-01-extra`],
    ['upper-case hex', `00-${TRACE_ID.toUpperCase()}-${PARENT_ID}-01`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${PARENT_ID}-01`],
    ['all-zero parent id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['short trace id', `00-${TRACE_ID.slice(1)}-${PARENT_ID}-01`],
    ['bad flags', `00-${TRACE_ID}-${PARENT_ID}-0x`],
    ['two joined headers', `00-${TRACE_ID}-${PARENT_ID}-01, 00-${TRACE_ID}-${PARENT_ID}-01`],
  ])('rejects %s', (_name, header) => {
    expect(parseTraceparent(header)).toBeUndefined();
  });
});

describe('requestId options', () => {
  it('rejects a bad header name or generator at construction', () => {
    expect(() => requestId({ header: 'x request id' })).toThrow(ConfigurationError);
    expect(() => requestId({ generate: 'uuid' as never })).toThrow(/generate/);
  });
});

describe.each(adapters)('requestId on $name', (fixture) => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const start = async (options: Parameters<typeof requestId>[0] = {}) => {
    const logs = captureLogs();
    const logger = createLogger({ destination: logs.stream });
    const toolkit = createToolkit({ plugins: [requestId(options)] });
    app = await fixture.start(toolkit, [
      {
        method: 'GET',
        path: '/hello',
        handler: async (ctx) => {
          await Promise.resolve();
          logger.info('handling');
          return { body: { id: ctx.requestId } };
        },
      },
      {
        method: 'GET',
        path: '/missing',
        handler: () => {
          throw new NotFoundError({ detail: 'nope' });
        },
      },
    ]);
    return { url: app.url, logs };
  };

  it('accepts a valid incoming X-Request-Id and echoes it on the response and in logs', async () => {
    const { url, logs } = await start();
    const response = await fetch(`${url}/hello`, { headers: { 'x-request-id': 'abc.DEF_123-x' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('abc.DEF_123-x');
    expect(await response.json()).toEqual({ id: 'abc.DEF_123-x' });
    expect(await logs.waitFor((l) => l.msg === 'handling')).toMatchObject({
      request_id: 'abc.DEF_123-x',
    });
  });

  it.each([
    ['too long', 'a'.repeat(129)],
    ['with spaces', 'hello world'],
    ['with quotes', 'x"y'],
    ['with a slash', '../etc/passwd'],
  ])('replaces an unsafe incoming id (%s) with a UUID', async (_name, incoming) => {
    const { url } = await start();
    const response = await fetch(`${url}/hello`, { headers: { 'x-request-id': incoming } });
    const id = response.headers.get('x-request-id');
    expect(id).toMatch(UUID);
    expect(await response.json()).toEqual({ id });
  });

  it('generates an id when none is sent, and puts it in problem bodies', async () => {
    const { url } = await start();
    const unknown = await fetch(`${url}/no/such/route`);
    expect(unknown.status).toBe(404);
    const id = unknown.headers.get('x-request-id');
    expect(id).toMatch(UUID);
    expect(await unknown.json()).toMatchObject({ status: 404, request_id: id });

    const thrown = await fetch(`${url}/missing`, { headers: { 'x-request-id': 'req-42' } });
    expect(thrown.headers.get('x-request-id')).toBe('req-42');
    expect(await thrown.json()).toMatchObject({ status: 404, request_id: 'req-42' });
  });

  it('ignores incoming ids when trustIncoming is false, and uses a custom generator', async () => {
    let n = 0;
    const { url } = await start({ trustIncoming: false, generate: () => `gen-${++n}` });
    const response = await fetch(`${url}/hello`, { headers: { 'x-request-id': 'client-id' } });
    expect(response.headers.get('x-request-id')).toBe('gen-1');
  });

  it('carries a valid traceparent into log lines as trace_id and span_id', async () => {
    const { url, logs } = await start();
    await fetch(`${url}/hello`, {
      headers: { 'x-request-id': 'traced', traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` },
    });
    await fetch(`${url}/hello`, {
      headers: { 'x-request-id': 'bad-trace', traceparent: `00-${'0'.repeat(32)}-${PARENT_ID}-01` },
    });
    const traced = await logs.waitFor((l) => l.request_id === 'traced');
    expect(traced).toMatchObject({ trace_id: TRACE_ID, span_id: PARENT_ID });
    const untraced = await logs.waitFor((l) => l.request_id === 'bad-trace');
    expect(untraced).not.toHaveProperty('trace_id');
  });
});
