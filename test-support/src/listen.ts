import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clientErrorHandler } from '@org/core';
import type { RunningApp } from './fixture.js';

/**
 * Listens on 127.0.0.1:0 and returns the URL plus a close that also drops keep-alive
 * sockets. Requests Node's parser rejects are answered as problems (`clientErrorHandler`),
 * as in the examples.
 */
export async function listen(server: Server): Promise<RunningApp> {
  server.on('clientError', clientErrorHandler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
