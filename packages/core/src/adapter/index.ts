/**
 * What authors of adapters and feature packages need from the kernel, kept out of the
 * root entry that app authors read: the start-up option checks every package of the
 * toolkit shares.
 *
 * @module \@org/core/adapter
 */

/** The context, request view and bare-response writer over Node's `IncomingMessage`/`ServerResponse`. */
export { NodeContext, NodeRequestView, nodeResponseWriter } from '../internal/node-request.js';
/** What the lifecycle needs from a framework's response. */
export type { ResponseWriter } from '../lifecycle/adapter-context.js';
/** An adapter's context: one request, writing its own response. */
export { AdapterContext } from '../lifecycle/adapter-context.js';
/** What an adapter does around the plugins (proceed, fail, answered). */
export type { LifecycleRoute, RequestSteps } from '../lifecycle/request-lifecycle.js';
/** The lifecycle's steps: start a request, run a route, send its result, fail it, write a problem. */
export {
  failRequest,
  runRoute,
  sendResult,
  startRequest,
  writeProblem,
} from '../lifecycle/request-lifecycle.js';
export {
  booleanOption,
  functionOption,
  integerInRange,
  nonNegativeInteger,
  positiveInteger,
} from '../options/check-options.js';
export type { PreparedRoute } from '../toolkit/toolkit.js';
