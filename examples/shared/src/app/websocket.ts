import type { Auth } from '@org/auth';
import {
  createUpgradeHandler,
  type Toolkit,
  type UpgradeListener,
  webSocketProtocols,
} from '@org/core';
import { WebSocketServer } from 'ws';
import type { UserRecord } from '../users/user-repository.ts';

/** Where the WebSocket endpoint of the example contract answers. */
export const WEBSOCKET_PATH = '/api/v1/ws';
/** The largest message a client may send; a larger one closes the connection with 1009. */
const MAX_MESSAGE_BYTES = 64 * 1024;

/** The WebSocket endpoint, attached to whichever framework's server runs the API. */
export interface WebSocketEndpoint {
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
    onConnection(ws, _ctx, { principal }) {
      ws.send(JSON.stringify({ type: 'hello', sub: principal.id }));
      ws.on('message', (data, isBinary) => {
        // RFC 6455 section 7.4.1: 1003 for a kind of data the endpoint cannot accept.
        if (isBinary) ws.close(1003, 'Text messages only.');
        else ws.send(JSON.stringify({ type: 'echo', data: String(data) }));
      });
    },
  });
  return {
    upgrade,
    close() {
      for (const ws of server.clients) ws.close(1001, 'The server is shutting down.');
    },
  };
}
