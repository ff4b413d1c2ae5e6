import { Context } from '../context/context.js';
import type { Reply } from '../toolkit/plugin.js';

/**
 * What the request lifecycle needs from a framework's response. Each adapter implements
 * it once: on its context, and on a bare response for errors that arrive without one.
 */
export interface ResponseWriter {
  /** Whether the status and headers went out: a problem can no longer replace them. */
  readonly headersSent: boolean;
  /** Writes `reply` as the whole response, its headers over those set before. */
  sendReply(reply: Reply): void;
  /** Removes `content-length` and `content-encoding` set before: they describe another body. */
  dropContentHeaders(): void;
  /** Ends a response that failed after its headers went out, so the client sees it fail, not hang. */
  abort(): void;
}

/** An adapter's {@link Context}: one request, writing its own response through the framework. */
export abstract class AdapterContext extends Context implements ResponseWriter {
  /** The error that escaped the route, for teardowns and `onResponse`. */
  failure: unknown = undefined;
  abstract sendReply(reply: Reply): void;
  abstract dropContentHeaders(): void;
  abstract abort(): void;
}
