/**
 * The users domain of the example apps, written once: SQLite storage with migrations,
 * the user and session services, zod schemas, configuration from the environment, and
 * the framework-neutral app definition (plugins, dependencies and routes) that each
 * framework example mounts with its adapter's `mount`.
 *
 * @module
 */
export { createUsersApi, type UsersApi, type UsersApiOptions } from './app/create-users-api.ts';
export { afterGuard, tooManyRequests } from './app/route.ts';
export {
  type MountedWithWebSockets,
  type MountFramework,
  startExample,
} from './app/start-example.ts';
export {
  closeWebSockets,
  converse,
  MAX_MESSAGE_BYTES,
  type WebSocketConversation,
  type WebSocketData,
  type WebSocketEndpoint,
  type WebSocketPeer,
  webSocketConversation,
} from './app/websocket.ts';
export { ConfigSchema, type ExampleConfig, loadExampleConfig } from './config.ts';
export { migrate, openDatabase } from './database/database.ts';
export {
  ListUsersQuery,
  RefreshRequest,
  type RegisterInput,
  RegisterRequest,
  type TokenPair,
  TokenResponse,
  UpdateMeRequest,
  User,
  type UserDto,
  UserIdParams,
  UserPage,
} from './users/schemas.ts';
export { SessionService, type SessionServiceOptions } from './users/session-service.ts';
export {
  DuplicateEmailError,
  type NewUser,
  type UserRecord,
  UserRepository,
} from './users/user-repository.ts';
export { toUserDto, UserService, type UserServiceOptions } from './users/user-service.ts';
