import { Buffer } from 'node:buffer';
import type { Auth } from '@org/auth';
import {
  createUpgradeHandler,
  type Toolkit,
  type UpgradeListener,
  webSocketProtocols,
} from '@org/core';
import { type WebSocket, WebSocketServer } from 'ws';
import type { UserRecord } from '../users/user-repository.ts';

/** Where the WebSocket endpoint of the example contract answers. */
export const WEBSOCKET_PATH = '/api/v1/ws';
/** The largest message a client may send; a larger one closes the connection with 1009. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

/** A connection as the conversation uses it: `ws`'s `WebSocket` and hono's `WSContext` both fit. */
export interface WebSocketPeer {
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A message as the integrations receive it: text, or bytes. */
export type WebSocketData = string | ArrayBuffer | Uint8Array | readonly Uint8Array[];

/** The endpoint's side of one connection, the same on every integration. */
export interface WebSocketConversation {
  /** Says `{"type":"hello","sub":...}`. */
  open(peer: WebSocketPeer): void;
  /** Echoes a text message as `{"type":"echo","data":...}`; binary or oversized data closes. */
  message(peer: WebSocketPeer, data: WebSocketData, isBinary: boolean): void;
}

function byteLength(data: WebSocketData): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (data instanceof ArrayBuffer || data instanceof Uint8Array) return data.byteLength;
  return (data as readonly Uint8Array[]).reduce((total, part) => total + part.byteLength, 0);
}

/**
 * The conversation of `GET /api/v1/ws` with the connection's principal: hello, then an
 * echo of each text message. A binary message closes with 1003 (RFC 6455 section 7.4.1:
 * data the endpoint cannot accept); one over {@link MAX_MESSAGE_BYTES} with 1009, for an
 * integration whose WebSocket server cannot be given `maxPayload`.
 */
export function webSocketConversation(principal: { readonly id: string }): WebSocketConversation {
  return {
    open: (peer) => peer.send(JSON.stringify({ type: 'hello', sub: principal.id })),
    message(peer, data, isBinary) {
      if (isBinary) peer.close(1003, 'Text messages only.');
      else if (byteLength(data) > MAX_MESSAGE_BYTES) peer.close(1009, 'Message too big.');
      else peer.send(JSON.stringify({ type: 'echo', data: String(data) }));
    },
  };
}

/** Runs the conversation on a `ws` WebSocket (the shared route, `@fastify/websocket`). */
export function converse(ws: WebSocket, principal: { readonly id: string }): void {
  const conversation = webSocketConversation(principal);
  conversation.open(ws);
  ws.on('message', (data, isBinary) => conversation.message(ws, data, isBinary));
}

/** Says goodbye (1001, going away) to each open connection; the drain calls it. */
export function closeWebSockets(clients: Iterable<WebSocketPeer>): void {
  for (const ws of clients) ws.close(1001, 'The server is shutting down.');
}

/** The WebSocket endpoint, attached to whichever framework's server runs the API. */
export interface WebSocketEndpoint {
  /** Where it answers: {@link WEBSOCKET_PATH}. */
  readonly path: string;
  /** What a framework's own integration resolves before the `101`: the `principal`. */
  readonly dependencies: { readonly principal: Auth<UserRecord>['principal'] };
  /** The listener for the server's `upgrade` event. */
  readonly upgrade: UpgradeListener;
  /** Closes every open connection with 1001 (going away); the drain calls it. */
  close(): void;
}

/**
 * `GET /api/v1/ws`: an upgrade authenticated before the `101` by the same `principal` as
 * every route (an access token or an API key, in `Authorization`, `X-API-Key` or the
 * browser's `Sec-WebSocket-Protocol: bearer, <token>`), rate limited by the same plugins.
 * It says `{"type":"hello","sub":...}`, then echoes each text message as
 * `{"type":"echo","data":...}`; the connection closes with 1008 when the token expires.
 * Frameworks with their own WebSocket integration serve the same conversation
 * ({@link webSocketConversation}) through it instead.
 */
export function webSocketEndpoint(
  toolkit: Toolkit,
  principal: Auth<UserRecord>['principal'],
): WebSocketEndpoint {
  const server = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    // Answers the `bearer` marker, never the token a browser sent beside it.
    handleProtocols: webSocketProtocols(),
  });
  const upgrade = createUpgradeHandler(toolkit, {
    path: WEBSOCKET_PATH,
    dependencies: { principal },
    webSocketServer: server,
    onConnection: (ws, _ctx, { principal }) => converse(ws, principal),
  });
  return {
    path: WEBSOCKET_PATH,
    dependencies: { principal },
    upgrade,
    close: () => closeWebSockets(server.clients),
  };
}
