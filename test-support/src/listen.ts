import type { AddressInfo } from 'node:net';
import { clientErrorHandler } from '@org/core';
import type { RunningApp } from './fixture.js';
import { type NodeServer, schemeOf, type Transport, trackConnections } from './transport.js';

/**
 * Listens on 127.0.0.1:0 and returns the URL plus a close that also drops keep-alive
 * sockets, upgraded sockets and HTTP/2 sessions. Requests Node's parser rejects are
 * answered as problems (`clientErrorHandler`), as in the examples.
 */
export async function listen(
  server: NodeServer,
  transport: Transport = 'http',
): Promise<RunningApp> {
  server.on('clientError', clientErrorHandler);
  const cutConnections = trackConnections(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${schemeOf(transport)}://127.0.0.1:${port}`,
    transport,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        cutConnections();
        server.close(() => resolve());
      }),
  };
}
