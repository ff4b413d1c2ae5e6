import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Take } from './raw-socket.js';

/** RFC 6455 section 1.3: the GUID every server appends to the client's key. */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** RFC 6455 section 4.2.2: `Sec-WebSocket-Accept` is base64(SHA-1(key + GUID)). */
export function websocketAccept(key: string): string {
  return createHash('sha1')
    .update(key + WEBSOCKET_GUID)
    .digest('base64');
}

/**
 * One unfragmented frame with a payload under 126 bytes, masked when `mask` is given
 * (RFC 6455 section 5.2: a client masks every frame, a server none).
 */
export function encodeFrame(opcode: number, payload: Buffer, mask?: Buffer): Buffer {
  if (payload.length >= 126) throw new RangeError('only short frames');
  const header = Buffer.from([0x80 | opcode, (mask === undefined ? 0 : 0x80) | payload.length]);
  if (mask === undefined) return Buffer.concat([header, payload]);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ (mask[i % 4] as number)));
  return Buffer.concat([header, mask, masked]);
}

/** The first complete short frame in `bytes`, unmasked, or undefined while it is incomplete. */
export function decodeFrame(
  bytes: Buffer,
): { opcode: number; payload: Buffer; length: number } | undefined {
  if (bytes.length < 2) return undefined;
  const opcode = (bytes[0] as number) & 0x0f;
  const masked = ((bytes[1] as number) & 0x80) !== 0;
  const size = (bytes[1] as number) & 0x7f;
  if (size >= 126) throw new RangeError('only short frames');
  const start = masked ? 6 : 2;
  if (bytes.length < start + size) return undefined;
  const mask = bytes.subarray(2, 6);
  const payload = Buffer.from(
    bytes
      .subarray(start, start + size)
      .map((byte, i) => (masked ? byte ^ (mask[i % 4] as number) : byte)),
  );
  return { opcode, payload, length: start + size };
}

/** {@link decodeFrame} for `collect(socket).next(...)`. */
export const takeFrame: Take<{ opcode: number; payload: Buffer }> = (bytes) => {
  const frame = decodeFrame(bytes);
  return frame && { value: frame, length: frame.length };
};

/**
 * An `upgrade` listener that accepts a WebSocket handshake with `101 Switching
 * Protocols` and echoes each short frame back unmasked; other upgrades get 400.
 */
export function acceptWebSocketEcho(request: IncomingMessage, socket: Duplex, head: Buffer): void {
  const key = request.headers['sec-websocket-key'];
  if (request.headers.upgrade?.toLowerCase() !== 'websocket' || typeof key !== 'string') {
    socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    return;
  }
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n' +
      `sec-websocket-accept: ${websocketAccept(key)}\r\n\r\n`,
  );
  let pending = head;
  const echo = (chunk: Buffer): void => {
    pending = Buffer.concat([pending, chunk]);
    for (let frame = decodeFrame(pending); frame; frame = decodeFrame(pending)) {
      pending = pending.subarray(frame.length);
      socket.write(encodeFrame(frame.opcode, frame.payload));
    }
  };
  socket.on('data', echo);
  socket.on('error', () => {});
  echo(Buffer.alloc(0));
}
