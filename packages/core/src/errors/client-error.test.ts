import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { clientErrorHandler } from './client-error.js';

/** A socket stand-in that records what was written, and an optional current response. */
function socket(current?: { headersSent: boolean }) {
  const stream = Object.assign(new PassThrough(), current ? { _httpMessage: current } : {});
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

  it('only closes a reset connection or one whose response has started', () => {
    const reset = socket();
    clientErrorHandler(parseError('ECONNRESET'), reset.stream);
    const started = socket({ headersSent: true });
    clientErrorHandler(parseError('HPE_INVALID_METHOD'), started.stream);
    for (const { stream, written } of [reset, started]) {
      expect(written).toEqual([]);
      expect(stream.destroyed).toBe(true);
    }
  });
});
