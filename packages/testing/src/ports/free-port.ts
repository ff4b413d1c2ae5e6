import { createServer } from 'node:net';

/**
 * A free port on 127.0.0.1, found by binding port 0 and closing again. Another
 * process may still take it before yours does: retry on `EADDRINUSE`.
 *
 * @example
 * ```ts
 * const port = await freePort();
 * spawn('node', ['server.js'], { env: { ...process.env, PORT: String(port) } });
 * ```
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
