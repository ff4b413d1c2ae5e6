// The WebSocket upgrade tests' shared parts (this package's, and `@org/core`'s native
// integrations and NestJS gateways): two known users behind two known tokens, an `auth`
// over them, and a `ws` client reporting what it saw of a handshake, accepted or refused.
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { connect as connectSocket } from 'node:net';
import {
  type AccessTokenClaims,
  type AccessTokenVerifier,
  createAuth,
  TokenError,
} from '@org/auth';
import { WebSocket } from 'ws';

/** A user of the test apps. */
export interface AppUser {
  readonly id: string;
  readonly roles: readonly string[];
}

/** `u-admin` (admin) and `u-user` (user). */
export const users = new Map<string, AppUser>([
  ['u-admin', { id: 'u-admin', roles: ['admin'] }],
  ['u-user', { id: 'u-user', roles: ['user'] }],
]);

/** `admin-token` and `user-token`, valid for an hour from when verified (fake timers move it). */
export const verifier: AccessTokenVerifier = {
  async verify(token) {
    const sub = { 'admin-token': 'u-admin', 'user-token': 'u-user' }[token];
    if (sub === undefined)
      throw new TokenError('ERR_TOKEN_INVALID', 'The access token is invalid.');
    const now = Math.floor(Date.now() / 1000);
    return {
      iss: 'https://issuer.test',
      aud: 'api',
      sub,
      iat: now,
      exp: now + 3600,
    } as AccessTokenClaims;
  },
};

/** The auth every upgrade test guards with: admin includes user. */
export const auth = createAuth({
  verifier,
  loadUser: async (id) => users.get(id),
  realm: 'example',
  roles: ['admin', 'user'],
  roleHierarchy: { admin: ['user'], user: [] },
});

/** The media type of every refusal. */
export const PROBLEM = 'application/problem+json';

/** What a client saw: an open connection with its messages, or a refused handshake. */
export type Outcome =
  | {
      kind: 'open';
      ws: WebSocket;
      protocol: string;
      next(): Promise<unknown>;
      closed: Promise<number>;
    }
  | { kind: 'refused'; status: number; headers: IncomingMessage['headers']; body: string };

export function connect(
  url: string,
  options: { protocols?: string[]; headers?: Record<string, string> } = {},
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), options.protocols ?? [], {
      headers: options.headers ?? {},
    });
    const messages: unknown[] = [];
    const waiting: ((value: unknown) => void)[] = [];
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as unknown;
      const waiter = waiting.shift();
      if (waiter) waiter(message);
      else messages.push(message);
    });
    const closed = new Promise<number>((done) => ws.once('close', (code) => done(code)));
    ws.once('open', () =>
      resolve({
        kind: 'open',
        ws,
        protocol: ws.protocol,
        closed,
        next: () =>
          messages.length > 0
            ? Promise.resolve(messages.shift())
            : new Promise((done) => waiting.push(done)),
      }),
    );
    ws.once('unexpected-response', (request, response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => {
        resolve({
          kind: 'refused',
          status: response.statusCode ?? 0,
          headers: response.headers,
          body,
        });
        request.destroy();
      });
    });
    ws.once('error', reject);
  });
}

export function refused(outcome: Outcome): Extract<Outcome, { kind: 'refused' }> {
  if (outcome.kind !== 'refused') {
    outcome.ws.terminate();
    throw new Error('expected the upgrade to be refused');
  }
  return outcome;
}

export function opened(outcome: Outcome): Extract<Outcome, { kind: 'open' }> {
  if (outcome.kind !== 'open')
    throw new Error(`expected a connection; got ${outcome.status} ${outcome.body}`);
  return outcome;
}

/**
 * Opens `GET <path>` on the server at `url` as `user-token` over a raw socket, checks the
 * `101`, sends a frame without the mask bit (a protocol error, RFC 6455 section 5.1) and
 * resolves once the server closed the connection.
 */
export async function sendUnmaskedFrame(url: string, path = '/ws'): Promise<void> {
  const socket = connectSocket(Number(new URL(url).port), '127.0.0.1');
  await once(socket, 'connect');
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
      'Authorization: Bearer user-token\r\n\r\n',
  );
  const [head] = (await once(socket, 'data')) as [Buffer];
  if (!String(head).startsWith('HTTP/1.1 101')) {
    socket.destroy();
    throw new Error(`expected a 101, got ${String(head).split('\r\n')[0]}`);
  }
  socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69]));
  await once(socket, 'close');
}
