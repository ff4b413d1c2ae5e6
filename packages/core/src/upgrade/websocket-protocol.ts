import type { IncomingMessage } from 'node:http';

/**
 * The markers a browser puts before its access token in `Sec-WebSocket-Protocol`, which
 * it can set where it cannot set `Authorization`: `new WebSocket(url, ['bearer', token])`
 * sends `Sec-WebSocket-Protocol: bearer, <token>`; `access_token, <token>` is the variant
 * some gateways use.
 */
export const DEFAULT_TOKEN_PROTOCOLS: readonly string[] = Object.freeze(['bearer', 'access_token']);

/** The offered subprotocols of a `Sec-WebSocket-Protocol` header (RFC 6455 section 4.1), in order. */
export function parseWebSocketProtocols(header: string | undefined): string[] {
  if (header === undefined) return [];
  const protocols: string[] = [];
  for (const part of header.split(',')) {
    const protocol = part.trim();
    if (protocol !== '') protocols.push(protocol);
  }
  return protocols;
}

/** Where an access token sits among offered subprotocols: the marker's index, or -1. */
function markerIndex(protocols: readonly string[], markers: readonly string[]): number {
  for (let i = 0; i < protocols.length - 1; i++) {
    if (markers.includes((protocols[i] as string).toLowerCase())) return i;
  }
  return -1;
}

/**
 * The access token of a `Sec-WebSocket-Protocol` header: the protocol right after the
 * first marker (`bearer, <token>`); undefined when there is none. Only an upgrade
 * request should be read this way; `@org/auth`'s token extractor does so on its own.
 *
 * @example
 * ```ts
 * webSocketProtocolToken('chat, bearer, eyJhbGciOi...'); // 'eyJhbGciOi...'
 * webSocketProtocolToken('chat'); // undefined
 * ```
 */
export function webSocketProtocolToken(
  header: string | undefined,
  markers: readonly string[] = DEFAULT_TOKEN_PROTOCOLS,
): string | undefined {
  const protocols = parseWebSocketProtocols(header);
  const at = markerIndex(protocols, markers);
  return at === -1 ? undefined : protocols[at + 1];
}

/** Whether `request` asks for a WebSocket: `GET` with `Upgrade: websocket` (RFC 6455 section 4.1). */
export function isWebSocketUpgrade(
  method: string | undefined,
  upgrade: string | undefined,
): boolean {
  if (method !== 'GET' || upgrade === undefined) return false;
  return upgrade.split(',').some((token) => token.trim().toLowerCase() === 'websocket');
}

/** Options of {@link webSocketProtocols}. */
export interface WebSocketProtocolsOptions {
  /**
   * The application subprotocols the server speaks, in preference order. The first one
   * the client offered is chosen; when none was offered, the token marker (`bearer`) is
   * echoed, since browsers fail a handshake that offered protocols and got none back.
   * @default undefined (the first offered protocol that is neither a marker nor a token)
   */
  supported?: readonly string[];
  /** Markers that precede a token. @default ['bearer', 'access_token'] */
  markers?: readonly string[];
}

/**
 * The subprotocol to answer in the `101`, for `ws`'s `handleProtocols`: never the access
 * token a browser sent as `Sec-WebSocket-Protocol: bearer, <token>`, which would echo a
 * credential back into every response and log that records it.
 *
 * @example
 * ```ts
 * import { WebSocketServer } from 'ws';
 * const wss = new WebSocketServer({
 *   noServer: true,
 *   handleProtocols: webSocketProtocols({ supported: ['chat.v1'] }),
 * });
 * ```
 */
export function webSocketProtocols(
  options: WebSocketProtocolsOptions = {},
): (protocols: Set<string>, request: IncomingMessage) => string | false {
  const markers = (options.markers ?? DEFAULT_TOKEN_PROTOCOLS).map((m) => m.toLowerCase());
  const supported = options.supported;
  return (offered) => {
    const protocols = [...offered];
    const at = markerIndex(protocols, markers);
    const marker = at === -1 ? undefined : protocols[at];
    const rest = at === -1 ? protocols : protocols.filter((_, i) => i !== at && i !== at + 1);
    const chosen =
      supported === undefined
        ? rest.find((p) => !markers.includes(p.toLowerCase()))
        : supported.find((p) => rest.includes(p));
    return chosen ?? marker ?? false;
  };
}
