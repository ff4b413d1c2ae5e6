import { once } from 'node:events';
import { expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { expectNoStore, expectProblem } from './assertions.ts';
import type { HttpResponse } from './http.ts';
import type { ContractContext } from './suite.ts';

/** An open connection and the messages it received, in order. */
interface Connection {
  readonly ws: WebSocket;
  /** The subprotocol the server chose (`''` for none). */
  readonly protocol: string;
  /** The next message, parsed. */
  next(): Promise<unknown>;
}

/** Opens `/api/v1/ws`; resolves with the connection, or with the refusal as a response. */
function connect(
  baseUrl: string,
  options: { headers?: Record<string, string>; protocols?: string[] } = {},
): Promise<Connection | HttpResponse> {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/api/v1/ws`, options.protocols, {
    headers: options.headers,
  });
  const received: unknown[] = [];
  const waiting: ((message: unknown) => void)[] = [];
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as unknown;
    const waiter = waiting.shift();
    if (waiter === undefined) received.push(message);
    else waiter(message);
  });
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () =>
      resolve({
        ws,
        protocol: ws.protocol,
        next: () =>
          received.length > 0
            ? Promise.resolve(received.shift())
            : new Promise((done) => waiting.push(done)),
      }),
    );
    ws.once('unexpected-response', (_request, response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        const headers = response.headers as Record<string, string>;
        const json = /json/.test(headers['content-type'] ?? '');
        resolve({
          status: response.statusCode ?? 0,
          headers,
          text,
          body: json ? JSON.parse(text) : text,
        });
      });
    });
  });
}

function opened(outcome: Connection | HttpResponse): Connection {
  if ('status' in outcome) throw new Error(`upgrade refused: ${outcome.status} ${outcome.text}`);
  return outcome;
}

function refused(outcome: Connection | HttpResponse): HttpResponse {
  if (!('status' in outcome)) {
    outcome.ws.terminate();
    throw new Error('the upgrade was accepted');
  }
  return outcome;
}

/** Says hello with `sub`, echoes two text messages in order, and closes cleanly. */
async function expectHelloAndEcho(connection: Connection, sub: string): Promise<void> {
  expect(await connection.next()).toEqual({ type: 'hello', sub });
  connection.ws.send('first');
  connection.ws.send('{"not":"parsed"}');
  expect(await connection.next()).toEqual({ type: 'echo', data: 'first' });
  expect(await connection.next()).toEqual({ type: 'echo', data: '{"not":"parsed"}' });
  const closed = once(connection.ws, 'close');
  connection.ws.close(1000);
  expect((await closed)[0]).toBe(1000);
}

/**
 * `GET /api/v1/ws`: authenticated before the `101` by an access token (header or the
 * browser's subprotocol convention) or an API key; refused upgrades are problems.
 */
export function webSocketContract(get: () => ContractContext): void {
  it('GET /ws with Authorization: Bearer: 101, hello with the sub, then echoes', async () => {
    const { api, mint } = get();
    const user = await api.register('ws');
    const token = await mint(user);
    const connection = opened(
      await connect(api.baseUrl, { headers: { authorization: `Bearer ${token}` } }),
    );
    await expectHelloAndEcho(connection, user.id);
  });

  it('GET /ws with Sec-WebSocket-Protocol: bearer, <token>: answers bearer, never the token', async () => {
    const { api, mint } = get();
    const user = await api.register('ws-browser');
    const connection = opened(
      await connect(api.baseUrl, { protocols: ['bearer', await mint(user)] }),
    );
    expect(connection.protocol).toBe('bearer');
    await expectHelloAndEcho(connection, user.id);
  });

  it('GET /ws with an API key in X-API-Key: the key acts as its owner', async () => {
    const { api, mint } = get();
    const user = await api.register('ws-key');
    const created = await api.post('/api/v1/api-keys', {
      token: await mint(user),
      json: { name: 'socket' },
    });
    expect(created.status, created.text).toBe(201);
    const { key } = created.body as { key: string };
    const connection = opened(await connect(api.baseUrl, { headers: { 'x-api-key': key } }));
    await expectHelloAndEcho(connection, user.id);
  });

  it('GET /ws without a token: 401 problem with a Bearer challenge, no 101', async () => {
    const response = refused(await connect(get().api.baseUrl));
    expectProblem(response, 401, 'ERR_TOKEN_MISSING');
    expect(response.headers['www-authenticate']).toMatch(/^Bearer realm=/);
    expectNoStore(response);
  });

  it('GET /ws with a forged token: 401 invalid_token, no 101', async () => {
    const { api, mint } = get();
    const token = await mint(await api.register('ws-forged'));
    const forged = `${token.slice(0, -4)}AAAA`;
    const response = refused(
      await connect(api.baseUrl, { headers: { authorization: `Bearer ${forged}` } }),
    );
    expectProblem(response, 401);
    expect(response.headers['www-authenticate']).toMatch(/error="invalid_token"/);
  });
}
