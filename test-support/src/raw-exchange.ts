import { once } from 'node:events';
import { connect } from 'node:net';

/**
 * Writes `text` on a raw TCP connection to `url` and resolves with everything the server
 * sends until it closes the connection: for requests no HTTP client would send.
 */
export async function rawExchange(url: string, text: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  socket.setEncoding('utf8');
  let received = '';
  socket.on('data', (chunk: string) => {
    received += chunk;
  });
  socket.write(text);
  await once(socket, 'close');
  return received;
}
