import type { ServerResponse } from 'node:http';

/**
 * The latest response each connection began, so the parser-error handler can tell a
 * response on the wire from an idle connection. Node keeps that link on the socket only
 * as a private field. Held weakly both ways: an idle keep-alive connection must not keep
 * its finished request alive.
 */
const latest = new WeakMap<object, WeakRef<ServerResponse>>();

/** Records `response` as its connection's current one (every adapter, as a request arrives). */
export function trackResponse(response: ServerResponse): void {
  const { socket } = response;
  if (socket !== null) latest.set(socket, new WeakRef(response));
}

/** Whether a response on `socket` has sent its headers but not finished: nothing may be written between. */
export function isResponseInProgress(socket: object): boolean {
  const response = latest.get(socket)?.deref();
  return response?.headersSent === true && !response.writableFinished;
}
