import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';

/**
 * How a fixture's server speaks: plain HTTP/1.1, HTTP/1.1 over TLS, or HTTP/2 over TLS
 * (`http2.createSecureServer` with `allowHTTP1`, so HTTP/1.1 clients are served too).
 */
export type Transport = 'http' | 'https' | 'http2';

/** A PEM key and certificate for the TLS transports. */
export interface TlsCredentials {
  readonly key: string;
  readonly cert: string;
}

/** Options of a fixture's `start`. */
export interface StartOptions {
  /** The transport to serve. @default 'http' */
  transport?: Transport;
  /** Key and certificate; required for `https` and `http2`. */
  tls?: TlsCredentials;
}

/** The server a fixture listens with, by transport. */
export type NodeServer = Server | HttpsServer | Http2SecureServer;

/** A request listener that takes HTTP/1.1 and HTTP/2 compatibility objects alike. */
export type TransportListener = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
) => void;

/**
 * The transport `options` ask for, checked against what the fixture `name` supports
 * (a TLS transport without credentials, or one the framework cannot serve, throws).
 */
export function chooseTransport(
  name: string,
  supported: readonly Transport[],
  options: StartOptions | undefined,
): { transport: Transport; tls: TlsCredentials | undefined } {
  const transport = options?.transport ?? 'http';
  if (!supported.includes(transport)) {
    throw new Error(`the ${name} fixture does not support ${transport}`);
  }
  if (transport !== 'http' && options?.tls === undefined) {
    throw new Error(`${transport} needs options.tls (see createSelfSignedCertificate)`);
  }
  return { transport, tls: options?.tls };
}

/** A `node:http`, `node:https` or `node:http2` (`allowHTTP1`) server around `listener`. */
export function createTransportServer(
  transport: Transport,
  tls: TlsCredentials | undefined,
  listener: TransportListener,
): NodeServer {
  switch (transport) {
    case 'http':
      return createHttpServer(listener);
    case 'https':
      return createHttpsServer({ ...tls }, listener);
    case 'http2':
      return createSecureServer({ ...tls, allowHTTP1: true }, listener);
  }
}

/**
 * Tracks the server's connections so a test can cut them all at close: `close` and
 * `closeAllConnections` leave upgraded sockets and HTTP/2 sessions open.
 */
export function trackConnections(server: NodeServer): () => void {
  const open = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  return () => {
    for (const socket of open) socket.destroy();
  };
}

/** The URL scheme of a transport. */
export function schemeOf(transport: Transport): 'http' | 'https' {
  return transport === 'http' ? 'http' : 'https';
}
