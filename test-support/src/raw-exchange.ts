import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';

/** A raw TCP connection opened by {@link rawConnection}. */
export interface RawConnection {
  readonly socket: Socket;
  /** Everything the server has sent so far, as text. */
  readonly received: string;
  /** Settles when the connection has closed. */
  readonly closed: Promise<unknown>;
}

/**
 * Opens a raw TCP connection to `url` that collects what the server sends: for requests
 * no HTTP client would send, or several on one connection.
 */
export async function rawConnection(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  socket.setEncoding('utf8');
  const connection = { socket, received: '', closed: once(socket, 'close') };
  socket.on('data', (chunk: string) => {
    connection.received += chunk;
  });
  return connection;
}

/**
 * Writes `text` on a raw TCP connection to `url` and resolves with everything the server
 * sends until it closes the connection.
 */
export async function rawExchange(url: string, text: string): Promise<string> {
  const connection = await rawConnection(url);
  connection.socket.write(text);
  await connection.closed;
  return connection.received;
}

/**
 * Sends a GET to `url` and goes away (destroys the connection) once `started` resolves:
 * a client that leaves while its handler runs.
 */
export async function abandonRequest(url: string, started: Promise<void>): Promise<void> {
  const request = httpRequest(url);
  request.on('error', () => {});
  request.end();
  await started;
  request.destroy();
}
