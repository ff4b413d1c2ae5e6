import { AsyncLocalStorage } from 'node:async_hooks';
import { createReadStream } from 'node:fs';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import { defineRoute, type Reply } from '@org/core';
import { createNodeAdapter } from '@org/core/node';
import { FileBody, fileLength, pipeInto, StreamBody } from './bodies.js';
import type { AdapterFixture } from './fixture.js';
import { listen } from './listen.js';
import { chooseTransport, createTransportServer } from './transport.js';

type AnyResponse = ServerResponse | Http2ServerResponse;

/**
 * The response of the request being handled. A node route sees only the neutral context,
 * so the server's listener makes its response current for the request's async calls. A
 * WeakRef: the keep-alive timer Node arms in that async context must not hold it.
 */
const current = new AsyncLocalStorage<WeakRef<AnyResponse>>();

/**
 * Streams a {@link StreamBody} or {@link FileBody} into the response itself, the way of a
 * plain node:http handler, and resolves undefined when done (the adapter then ends an
 * already finished response); any other reply is the adapter's to send.
 */
function sendOwn(reply: Reply | undefined): Reply | undefined | Promise<undefined> {
  const body = reply?.body;
  if (reply === undefined || !(body instanceof StreamBody || body instanceof FileBody)) {
    return reply;
  }
  const response = current.getStore()?.deref();
  if (response === undefined) throw new Error('no current response');
  const status = reply.status ?? 200;
  // The http2 compatibility response's writeHead takes the same arguments.
  const writeHead = (headers: OutgoingHttpHeaders | undefined) =>
    (response as ServerResponse).writeHead(status, headers);
  if (body instanceof StreamBody) {
    writeHead(reply.headers);
    return pipeInto(response, body).then(() => undefined);
  }
  return fileLength(body).then((length) => {
    writeHead({ 'content-type': body.type, 'content-length': length });
    return pipeInto(response, new StreamBody(createReadStream(body.path))).then(() => undefined);
  });
}

/**
 * Each route through `app.mount`; a `native` one through `app.route`, streaming its
 * {@link StreamBody} or {@link FileBody} into the response itself.
 */
export const nodeFixture: AdapterFixture = {
  name: 'node',
  transports: ['http', 'https', 'http2'],
  start(toolkit, routes, options) {
    const { transport, tls } = chooseTransport('node', nodeFixture.transports, options);
    const app = createNodeAdapter(toolkit);
    for (const route of routes) {
      if (route.native !== true) {
        app.mount([defineRoute(route)]);
        continue;
      }
      app.route(route.method, route.path, route.dependencies ?? {}, (ctx, values) => {
        // A synchronous handler stays synchronous, as the adapter's fast path expects.
        const out = route.handler(ctx, values);
        return out instanceof Promise ? out.then(sendOwn) : sendOwn(out);
      });
    }
    // The adapter's handler is typed for node:http; over http2 it gets the compatibility
    // objects, which is what the http2 cases test.
    const server = createTransportServer(transport, tls, (req, res) =>
      current.run(new WeakRef(res), () =>
        app.handler(req as IncomingMessage, res as ServerResponse),
      ),
    );
    return listen(server, transport);
  },
};
