import { Context, finishRequest, isFinished } from '../context/context.js';
import type { RequestOutcome } from '../dependency/dependency.js';
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

/**
 * An adapter's {@link Context}: one request, writing its own response through the
 * framework. Besides the header methods of `Context` and the {@link ResponseWriter}
 * methods, an adapter that can see the end of its response overrides `watchEnd` and
 * calls {@link AdapterContext.finish} from there.
 */
export abstract class AdapterContext extends Context implements ResponseWriter {
  /** The error that escaped the route, for teardowns and `onResponse`. */
  failure: unknown = undefined;

  /**
   * Ends the request, once (later calls do nothing): runs the teardowns, newest first,
   * then the plugins' `onResponse`. Call it when the response finished or the client
   * left; teardown failures go to the error hooks, never to the client.
   *
   * @example
   * ```ts
   * protected override watchEnd(): void {
   *   this.response.on('close', () => {
   *     const aborted = !this.response.writableFinished;
   *     void this.finish({ status: this.response.statusCode, aborted, error: this.failure });
   *   });
   * }
   * ```
   */
  finish(outcome: Omit<RequestOutcome, 'failed'> & { bytes?: number }): Promise<void> {
    return finishRequest(this, outcome);
  }

  /** Whether {@link AdapterContext.finish} has run. */
  get finished(): boolean {
    return isFinished(this);
  }

  abstract sendReply(reply: Reply): void;
  abstract dropContentHeaders(): void;
  abstract abort(): void;
}
