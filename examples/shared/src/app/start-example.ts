import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerProtocolErrors, ConfigurationError } from '@org/core';
import { gracefulShutdown } from '@org/observability';
import { createUsersApi, type UsersApi } from './create-users-api.ts';

/**
 * A framework that serves `GET /api/v1/ws` through its own WebSocket integration
 * (`@fastify/websocket`, `@hono/node-ws`, a NestJS gateway) instead of the shared
 * `upgrade` listener.
 */
export interface MountedWithWebSockets {
  /** The framework's HTTP server. */
  readonly server: Server;
  /** Closes every open WebSocket with 1001 (going away); the drain calls it. */
  closeWebSockets(): void;
}

/**
 * Builds the framework's server around the API; called once, before listening. A plain
 * `Server` gets the shared WebSocket route attached to its `upgrade` event.
 */
export type MountFramework = (
  api: UsersApi,
) => Server | MountedWithWebSockets | Promise<Server | MountedWithWebSockets>;

/**
 * Runs an example: builds the API from the environment, lets the framework mount it,
 * has Node's own answers (parser errors, `CONNECT`, `Expect`) sent as problems,
 * attaches the WebSocket route to its server (unless the framework serves it), listens on `PORT`, prints where to find
 * it, and drains on SIGTERM/SIGINT (readiness fails at once, WebSockets close with 1001,
 * in-flight requests finish, Redis and the database close, exit 0).
 * A bad environment prints what to fix and exits 1.
 *
 * @example
 * ```ts
 * await startExample('node:http', (api) => createServer(mountNode(api).handler));
 * ```
 */
export async function startExample(framework: string, mount: MountFramework): Promise<void> {
  let api: UsersApi;
  try {
    api = await createUsersApi({ framework });
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const mounted = await mount(api);
  const native = 'closeWebSockets' in mounted ? mounted : undefined;
  // Problems also for what Node answers before any framework: parser errors, CONNECT, Expect.
  const server = answerProtocolErrors(native?.server ?? (mounted as Server));
  // The WebSocket route, authenticated before the 101, unless the framework serves it.
  if (native === undefined) server.on('upgrade', api.webSocket.upgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(api.config.PORT, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://localhost:${port}`;
  api.logger.info({ url, docs: `${url}/docs` }, `users API (${framework}) listening`);
  if (process.stdout.isTTY) process.stdout.write(banner(framework, url));
  gracefulShutdown({
    server,
    readiness: api.health,
    delayMs: api.config.SHUTDOWN_DELAY_MS,
    logger: api.logger,
    // WebSockets are not HTTP connections the server can close: say goodbye (1001).
    onDrain: () => (native === undefined ? api.webSocket.close() : native.closeWebSockets()),
    hooks: [() => api.close()],
  });
}

function banner(framework: string, url: string): string {
  const body = `'{"email":"ann@example.com","password":"correct horse battery staple"}'`;
  return [
    '',
    `  Users API (${framework}) listening on ${url}`,
    `  API reference: ${url}/docs`,
    `  Try it:        curl -i -X POST ${url}/api/v1/auth/register -H 'content-type: application/json' -d ${body}`,
    '',
    '',
  ].join('\n');
}
