import { createServer, type ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { deferred, listen, rawConnection, rawExchange } from '@org/test-support';
import { describe, expect, it } from 'vitest';
import { createNodeAdapter } from '../adapters/node/index.js';
import { createToolkit } from '../toolkit/toolkit.js';
import { answerProtocolErrors, clientErrorHandler } from './client-error.js';

/** A socket stand-in that records what was written. */
function socket() {
  const stream = new PassThrough();
  const written: string[] = [];
  stream.on('data', (chunk: Buffer) => written.push(chunk.toString()));
  return { stream, written };
}

const parseError = (code: string) => Object.assign(new Error('Parse Error: secret'), { code });

describe('clientErrorHandler', () => {
  it.each([
    ['HPE_HEADER_OVERFLOW', 431, 'ERR_HEADERS_TOO_LARGE'],
    ['HPE_CHUNK_EXTENSIONS_OVERFLOW', 413, 'ERR_BODY_TOO_LARGE'],
    ['ERR_HTTP_REQUEST_TIMEOUT', 408, 'ERR_REQUEST_TIMEOUT'],
    ['HPE_INVALID_METHOD', 400, 'ERR_BAD_REQUEST'],
    ['HPE_SOMETHING_NEW', 400, 'ERR_BAD_REQUEST'],
  ])('answers %s with a %i problem and closes', async (code, status, problemCode) => {
    const { stream, written } = socket();
    clientErrorHandler(parseError(code), stream);
    await new Promise((resolve) => setImmediate(resolve));
    const [response = ''] = written;
    const [head = '', body = ''] = response.split('\r\n\r\n');
    expect(head.split('\r\n')[0]).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(head).toContain('content-type: application/problem+json');
    expect(head).toContain(`content-length: ${Buffer.byteLength(body)}`);
    expect(head).toContain('connection: close');
    expect(JSON.parse(body)).toMatchObject({ status, code: problemCode });
    expect(response).not.toMatch(/secret|HPE_|Parse Error/);
    expect(stream.destroyed).toBe(true);
  });

  it('only closes a reset connection', () => {
    const reset = socket();
    clientErrorHandler(parseError('ECONNRESET'), reset.stream);
    expect(reset.written).toEqual([]);
    expect(reset.stream.destroyed).toBe(true);
  });

  it('never writes into a response in progress: a pipelined parse error only closes', async () => {
    const started = deferred<void>();
    const app = createNodeAdapter(createToolkit()).get('/slow', {}, (ctx) => {
      const { response } = ctx as unknown as { response: ServerResponse };
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write('part1');
      started.resolve();
      return new Promise<never>(() => {});
    });
    const running = await listen(createServer(app.handler));
    try {
      const connection = await rawConnection(running.url);
      connection.socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
      await started.promise;
      connection.socket.write('FOO /slow HTTP/1.1\r\nHost: x\r\n\r\n');
      await connection.closed;
      expect(connection.received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(connection.received).toContain('part1');
      expect(connection.received).not.toMatch(/400|problem/);
    } finally {
      await running.close();
    }
  });
});

describe('answerProtocolErrors', () => {
  const app = createNodeAdapter(createToolkit()).get('/', {}, () => ({ body: { ok: true } }));

  it('answers CONNECT with a 400 problem and an unmet Expect with a 417 problem', async () => {
    const running = await listen(answerProtocolErrors(createServer(app.handler)));
    try {
      const connect = await rawExchange(
        running.url,
        'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
      );
      expect(connect).toMatch(/^HTTP\/1\.1 400 /);
      expect(connect).toContain('content-type: application/problem+json');
      expect(JSON.parse(connect.slice(connect.indexOf('\r\n\r\n') + 4))).toMatchObject({
        status: 400,
        code: 'ERR_CONNECT_NOT_SUPPORTED',
      });

      const expectation = await rawExchange(
        running.url,
        'GET / HTTP/1.1\r\nHost: x\r\nExpect: tea\r\nConnection: close\r\n\r\n',
      );
      expect(expectation).toMatch(/^HTTP\/1\.1 417 /);
      expect(expectation.toLowerCase()).toContain('content-type: application/problem+json');
      expect(JSON.parse(expectation.slice(expectation.indexOf('\r\n\r\n') + 4))).toMatchObject({
        status: 417,
        code: 'ERR_EXPECTATION_FAILED',
      });

      // Parser errors too, and 100-continue still reaches the app.
      expect(await rawExchange(running.url, 'G E T / HTTP/1.1\r\n\r\n')).toMatch(
        /^HTTP\/1\.1 400 /,
      );
      const continued = await rawExchange(
        running.url,
        'GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n',
      );
      expect(continued).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
    } finally {
      await running.close();
    }
  });

  it("keeps a server's own listeners", () => {
    const own = () => {};
    const server = createServer();
    server.on('clientError', own);
    answerProtocolErrors(server);
    expect(server.listeners('clientError')).toEqual([own]);
    expect(server.listenerCount('connect')).toBe(1);
    expect(server.listenerCount('checkExpectation')).toBe(1);
  });
});
