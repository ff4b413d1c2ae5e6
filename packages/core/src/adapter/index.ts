/**
 * What authors of adapters and feature packages need from the kernel, kept out of the
 * root entry that app authors read: the toolkit's runtime, the request lifecycle, the
 * shared route mounting, the current request for loggers, and the start-up option checks
 * every package of the toolkit shares. The guide "Writing an adapter" walks through it.
 *
 * @module \@org/core/adapter
 */

/** The request that is running, for feature packages whose plugin declares `asyncContext: true`. */
export { getCurrentContext } from '../context/context.js';
/**
 * A thrown value as an `Error` (anything else wrapped, as its `cause`), for `steps.fail`
 * and a route's failure: most frameworks take a falsy error for none and let the request
 * go on, and some hand their error hook only `Error`s.
 */
export { asError } from '../errors/problem.js';
/** The context, request view and bare-response writer over Node's `IncomingMessage`/`ServerResponse`. */
export { NodeContext, NodeRequestView, nodeResponseWriter } from '../internal/node-request.js';
/** What the lifecycle needs from a framework's response. */
export type { ResponseWriter } from '../lifecycle/adapter-context.js';
/** An adapter's context: one request, writing its own response. */
export { AdapterContext } from '../lifecycle/adapter-context.js';
/** Routes checked, prepared and recorded once, for an adapter's `mount`. */
export { endpointRoute, type MountedRoute, prepareRoutes } from '../lifecycle/mount-routes.js';
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
/** The toolkit as adapters see it: plugins' hooks, route preparation, error rendering. */
export {
  type PreparedRoute,
  type ToolkitRuntime,
  toolkitRuntime,
} from '../toolkit/toolkit.js';
/** The context and request view of a WebSocket upgrade, for framework-native WebSocket integrations. */
export { UpgradeContext, UpgradeRequestView } from '../upgrade/upgrade-context.js';
/** Reading a bearer token from `Sec-WebSocket-Protocol` on an upgrade (the auth package's extractor). */
export {
  DEFAULT_TOKEN_PROTOCOLS,
  isWebSocketUpgrade,
  parseWebSocketProtocols,
  webSocketProtocolToken,
} from '../upgrade/websocket-protocol.js';
