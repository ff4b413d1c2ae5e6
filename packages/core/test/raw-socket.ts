import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { RunningApp } from '@org/test-support';

/**
 * A raw HTTP/1.1 connection to `app`: TCP, or TLS verified with `ca` that asks for
 * `http/1.1` by ALPN (an HTTP/2 server with `allowHTTP1` then speaks HTTP/1.1).
 */
export async function rawSocket(app: RunningApp, ca: string): Promise<Socket> {
  const port = Number(new URL(app.url).port);
  if (app.transport === 'http') {
    const socket = netConnect(port, '127.0.0.1');
    await once(socket, 'connect');
    return socket;
  }
  const socket = tlsConnect({ port, host: '127.0.0.1', ca, ALPNProtocols: ['http/1.1'] });
  await once(socket, 'secureConnect');
  return socket;
}

/** Finds a complete message at the start of `bytes`: its value and length, or undefined. */
export type Take<T> = (bytes: Buffer) => { value: T; length: number } | undefined;

/** What a raw socket receives, taken one complete message at a time. */
export function collect(socket: Readable): { next<T>(take: Take<T>): Promise<T> } {
  let buffer = Buffer.alloc(0);
  let closed = false;
  let wake: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    wake?.();
  });
  socket.on('close', () => {
    closed = true;
    wake?.();
  });
  return {
    async next<T>(take: Take<T>): Promise<T> {
      for (;;) {
        const found = take(buffer);
        if (found !== undefined) {
          buffer = buffer.subarray(found.length);
          return found.value;
        }
        if (closed) throw new Error(`connection closed; received ${buffer.toString('latin1')}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
  };
}

/** An HTTP/1.1 response read off a raw socket. */
export interface RawResponse {
  status: number;
  /** By lower-case name; a repeated header keeps its last value. */
  headers: Record<string, string>;
  body: string;
}

/** One HTTP/1.1 response with a Content-Length body (or none, for 101). */
export const httpMessage: Take<RawResponse> = (bytes) => {
  const end = bytes.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [statusLine = '', ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const status = Number(statusLine.split(' ')[1]);
  const length = status === 101 ? 0 : Number(headers['content-length'] ?? Number.NaN);
  if (Number.isNaN(length)) throw new Error(`no content-length: ${statusLine}`);
  if (bytes.length < end + 4 + length) return undefined;
  const body = bytes.subarray(end + 4, end + 4 + length).toString();
  return { value: { status, headers, body }, length: end + 4 + length };
};
