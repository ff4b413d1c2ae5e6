import { stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * A reply body that each fixture streams the framework's own way: express pipes it into
 * `res`, fastify `reply.send(stream)`, koa `ctx.body = stream`, hono
 * `c.body(Readable.toWeb(stream))`, the node adapter pipes it into the response. Put it
 * in a {@link RouteSpec} reply's `body`.
 */
export class StreamBody {
  readonly stream: Readable;
  /**
   * Send the headers at once, before the first chunk (`flushHeaders()`; hono's
   * node-server does so by itself when the first chunk is not ready).
   */
  readonly flushHeaders: boolean;
  constructor(stream: Readable, options: { flushHeaders?: boolean } = {}) {
    this.stream = stream;
    this.flushHeaders = options.flushHeaders ?? false;
  }
}

/**
 * A file that each fixture sends the framework's own way: express `res.sendFile`,
 * fastify `reply.send(createReadStream)`, koa `ctx.body = createReadStream`, hono
 * `c.body(Readable.toWeb(createReadStream))`, the node adapter pipes it; all but express
 * set `type` and the file's length themselves.
 */
export class FileBody {
  /** Absolute path. */
  readonly path: string;
  /** Content type (express derives it from the extension). */
  readonly type: string;
  constructor(path: string, type: string) {
    this.path = path;
    this.type = type;
  }
}

/** The size of a {@link FileBody}'s file, for the `content-length` the frameworks do not set. */
export async function fileLength(body: FileBody): Promise<number> {
  return (await stat(body.path)).size;
}

/**
 * Streams `body` into a Node response whose status and headers are set: the way of a
 * plain `node:http` (or http2 compatibility) handler. Resolves when the response ended
 * or the client left.
 */
export async function pipeInto(
  response: ServerResponse | Http2ServerResponse,
  body: StreamBody,
): Promise<void> {
  // Both responses have flushHeaders(); @types/node declares it on node:http's only.
  if (body.flushHeaders && 'flushHeaders' in response) response.flushHeaders();
  try {
    await pipeline(body.stream, response);
  } catch {
    // The client left (ERR_STREAM_PREMATURE_CLOSE): pipeline destroyed both sides.
  }
}
