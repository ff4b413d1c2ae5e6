import { Buffer } from 'node:buffer';
import type { Reply } from '@org/core';
import type { StoredResponse } from './store.js';

/** The header that marks a replayed response (Stripe's name; the draft defines none). */
export const REPLAYED_HEADER = 'idempotent-replayed';

/** What every adapter sends as the content type of a JSON body. */
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * A handler's reply as it will be sent and as it is stored. JSON bodies become their
 * bytes with the content type every adapter would give them, so the first answer and
 * every replay go out byte for byte the same on any adapter. A body over `maxBodyBytes`
 * is not kept: the record says so.
 */
export function captureReply(
  reply: Reply,
  maxBodyBytes: number,
): { reply: Reply; stored: StoredResponse } {
  const status = reply.status ?? 200;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(reply.headers ?? {})) {
    const key = name.toLowerCase();
    if (key !== 'content-length') headers[key] = value;
  }
  const { body } = reply;
  if (body === undefined) return { reply, stored: { status, headers } };
  if (typeof body === 'string') {
    const fits = Buffer.byteLength(body) <= maxBodyBytes;
    return { reply, stored: fits ? { status, headers, text: body } : tooLarge(status, headers) };
  }
  let bytes: Buffer;
  if (body instanceof Uint8Array) {
    bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  } else {
    bytes = Buffer.from(JSON.stringify(body));
    headers['content-type'] ??= JSON_CONTENT_TYPE;
  }
  const sent: Reply = { status, headers, body: bytes };
  if (bytes.byteLength > maxBodyBytes) return { reply: sent, stored: tooLarge(status, headers) };
  return { reply: sent, stored: { status, headers, base64: bytes.toString('base64') } };
}

function tooLarge(status: number, headers: Record<string, string>): StoredResponse {
  return { status, headers, tooLarge: true };
}

/** The reply that replays `stored`, marked with {@link REPLAYED_HEADER}. */
export function replayOf(stored: StoredResponse): Reply {
  const headers = { ...stored.headers, [REPLAYED_HEADER]: 'true' };
  if (stored.text !== undefined) return { status: stored.status, headers, body: stored.text };
  if (stored.base64 !== undefined) {
    return { status: stored.status, headers, body: Buffer.from(stored.base64, 'base64') };
  }
  return { status: stored.status, headers };
}
