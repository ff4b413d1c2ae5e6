/**
 * The framework-neutral kernel of the `@org` toolkit: request context, dependencies
 * (memoized, with teardown and overrides), the `HttpError` hierarchy and RFC 9457
 * problem envelopes, zod validation, typed environment config, plugins, and routes
 * written once (`defineRoute`) that every adapter mounts.
 * Adapters live in subpaths: `@org/core/express`, `/fastify`, `/koa`, `/hono`, `/node`,
 * `/nest`; what authors of adapters and feature packages need is in `@org/core/adapter`.
 *
 * @module \@org/core
 */
export {
  type LoadConfigOptions,
  loadConfig,
  type Profile,
} from './config/load-config.js';
export { Context } from './context/context.js';
export {
  type ContextKey,
  clientIpKey,
  createContextKey,
  principalIdKey,
  requestIdKey,
} from './context/keys.js';
export { parseCookieHeader, type RequestView } from './context/request-view.js';
export {
  type AnyDependency,
  type Dependency,
  DependencyCycleError,
  type DependencyMap,
  type DependencyOptions,
  defineDependency,
  type RequestOutcome,
  type ResolvedValues,
} from './dependency/dependency.js';
export { DependencyOverrides, type Override } from './dependency/overrides.js';
export {
  answerProtocolErrors,
  clientErrorHandler,
  type ProtocolServer,
} from './errors/client-error.js';
export {
  ConfigurationError,
  type ConfigurationErrorOptions,
} from './errors/configuration-error.js';
export {
  BadRequestError,
  ConflictError,
  DeadlineExceededError,
  ForbiddenError,
  HttpError,
  type HttpErrorOptions,
  InternalServerError,
  isHttpError,
  MethodNotAllowedError,
  type MethodNotAllowedErrorOptions,
  NotFoundError,
  PayloadTooLargeError,
  type RetryableErrorOptions,
  ServiceUnavailableError,
  TooManyRequestsError,
  UnauthorizedError,
  type UnauthorizedErrorOptions,
  UnsupportedMediaTypeError,
  ValidationError,
  type ValidationIssue,
} from './errors/http-error.js';
export {
  PROBLEM_CONTENT_TYPE,
  type ProblemDocument,
  type ProblemResponse,
  type ToProblemOptions,
  toProblem,
} from './errors/problem.js';
export {
  createOpenApiDocument,
  type OpenApiDocument,
  type OpenApiDocumentOptions,
  type OpenApiResponse,
  type OpenApiRoute,
} from './openapi/create-openapi-document.js';
export {
  type ApiKeyCreatedEvent,
  type ApiKeyEventFields,
  type ApiKeyRevokedEvent,
  type ApiKeyUsedAfterRevocationEvent,
  type AuthOutcomeEvent,
  authOutcomeChannel,
  type KeysRotatedEvent,
  type LockoutEndedEvent,
  type LockoutKeyKind,
  type LockoutStartedEvent,
  type LoginFailedEvent,
  type LoginSucceededEvent,
  type RateLimitDecisionEvent,
  type RateLimitExceededEvent,
  type RefreshReuseDetectedEvent,
  rateLimitDecisionChannel,
  type SecurityEvent,
  type SecurityEventBase,
  type SecurityEventName,
  type SecurityEventRequest,
  securityEventChannel,
  type TokenRefusedEvent,
} from './toolkit/channels.js';
export { type Clock, systemClock } from './toolkit/clock.js';
export type { Plugin, Reply, ResponseInfo } from './toolkit/plugin.js';
export {
  defineRoute,
  type HandlerInterceptor,
  type Route,
  type RouteHandler,
  type RouteMethod,
} from './toolkit/route.js';
export {
  createToolkit,
  type Toolkit,
  type ToolkitOptions,
} from './toolkit/toolkit.js';
export {
  closeOnExpiry,
  type WebSocketExpiryOptions,
  type WebSocketLike,
} from './upgrade/connection.js';
export {
  createUpgradeHandler,
  type RawUpgradeOptions,
  type UpgradeHandlerOptions,
  type UpgradeListener,
  type WebSocketServerLike,
  type WebSocketUpgradeOptions,
} from './upgrade/upgrade-handler.js';
export {
  type WebSocketProtocolsOptions,
  webSocketProtocols,
} from './upgrade/websocket-protocol.js';
export {
  requestBody,
  requestHeaders,
  requestParams,
  requestQuery,
  type SchemaDependency,
} from './validation/validate.js';
