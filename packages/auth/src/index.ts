/**
 * @module
 */

export {
  ApiKeyError,
  type ApiKeyErrorCode,
  type ApiKeyErrorOptions,
} from './api-keys/api-key-error.js';
export {
  type ApiKeys,
  type ApiKeysOptions,
  type CreateApiKeyInput,
  type CreatedApiKey,
  createApiKeys,
  type RotateApiKeyOptions,
} from './api-keys/api-key-manager.js';
export {
  MemoryApiKeyStore,
  type MemoryApiKeyStoreOptions,
} from './api-keys/memory-store.js';
export {
  PostgresApiKeyStore,
  type PostgresApiKeyStoreOptions,
} from './api-keys/postgres-store.js';
export { RedisApiKeyStore, type RedisApiKeyStoreOptions } from './api-keys/redis-store.js';
export { SqliteApiKeyStore, type SqliteApiKeyStoreOptions } from './api-keys/sqlite-store.js';
export type { ApiKeyRecord, ApiKeyStore, StoredApiKey } from './api-keys/types.js';
export { API_KEY_ISSUER, type ApiKeyVerifier } from './dependencies/api-key-admission.js';
export { type AnyGuard, allOf, anyOf, type Guards } from './dependencies/combinators.js';
export { type AuthOptions, createAuth } from './dependencies/create-auth.js';
export type {
  Auth,
  Guard,
  GuardValue,
  OwnerLookup,
  OwnershipOptions,
  Principal,
  WithRoles,
} from './dependencies/types.js';
export {
  type AuthErrorCode,
  InsufficientScopeError,
  type InsufficientScopeErrorOptions,
} from './errors/insufficient-scope-error.js';
export {
  type BearerErrorOptions,
  InvalidTokenError,
  type InvalidTokenErrorOptions,
  MalformedAuthorizationError,
  MissingTokenError,
} from './errors/token-errors.js';
export {
  createTokenExtractor,
  type TokenExtractor,
  type TokenExtractorOptions,
} from './extract/token-extractor.js';
export { importJwks, type JsonWebKeySetInput } from './keys/import-jwks.js';
export {
  type ImportSigningKeyOptions,
  importSigningKey,
  type JsonWebKeyInput,
} from './keys/import-signing-key.js';
export {
  JWKS_CONTENT_TYPE,
  type JwksHandlerOptions,
  jwksHandler,
} from './keys/jwks-handler.js';
export {
  createKeySet,
  type JsonWebKeySet,
  type KeySet,
  type KeySetChange,
  KeySetError,
  type KeySetOptions,
} from './keys/key-set.js';
export {
  type GenerateSigningKeyOptions,
  generateSigningKey,
  type PublicJwk,
  type SigningAlgorithm,
  type SigningKey,
} from './keys/signing-key.js';
export {
  type LoginCredentials,
  type LoginCredentialsOptions,
  loginCredentials,
} from './login/login-credentials.js';
export type {
  ClaimMapper,
  MappedClaims,
} from './oidc/claim-mapper.js';
export {
  type Auth0ClaimOptions,
  claimPresets,
  type EntraIdClaimOptions,
  type KeycloakClaimOptions,
  type OktaClaimOptions,
} from './oidc/claim-presets.js';
export { OidcDiscoveryError, type OidcDiscoveryErrorCode } from './oidc/oidc-discovery-error.js';
export {
  createOidcVerifier,
  type OidcIssuer,
  type OidcVerifier,
  type OidcVerifierOptions,
} from './oidc/oidc-verifier.js';
export {
  type AuthenticateOptions,
  authenticate,
} from './passwords/authenticate.js';
export { PasswordError, type PasswordErrorCode } from './passwords/password-error.js';
export {
  createPasswordHasher,
  type PasswordHasher,
  PasswordHasherBusyError,
  type PasswordHasherOptions,
} from './passwords/password-hasher.js';
export {
  MemoryRefreshTokenStore,
  type MemoryRefreshTokenStoreOptions,
} from './refresh/memory-store.js';
export {
  type PostgresClient,
  type PostgresQueryResult,
  PostgresRefreshTokenStore,
  type PostgresRefreshTokenStoreOptions,
} from './refresh/postgres-store.js';
export {
  type RedisPipelineLike,
  RedisRefreshTokenStore,
  type RedisRefreshTokenStoreOptions,
  type RedisScriptClient,
  type WaitForReplicasOptions,
} from './refresh/redis-store.js';
export {
  RefreshTokenError,
  type RefreshTokenErrorCode,
  type RefreshTokenErrorOptions,
} from './refresh/refresh-token-error.js';
export {
  createRefreshTokenManager,
  type IssuedRefreshToken,
  type RefreshTokenManager,
  type RefreshTokenManagerOptions,
} from './refresh/refresh-token-manager.js';
export type {
  NewRefreshTokenFamily,
  RefreshTokenStore,
  RotationRequest,
  RotationResult,
} from './refresh/types.js';
export {
  createRemoteJwksVerifier,
  type RemoteIssuer,
  type RemoteJwksVerifierOptions,
} from './remote-jwks/remote-jwks-verifier.js';
export {
  type AccessTokenInput,
  type AccessTokenSigner,
  type AccessTokenSignerOptions,
  createAccessTokenSigner,
  type SignedAccessToken,
} from './tokens/sign-access-token.js';
export {
  type AccessTokenClaims,
  type AccessTokenVerifier,
  TokenError,
  type TokenErrorCode,
} from './tokens/types.js';
export {
  type AccessTokenVerifierOptions,
  createAccessTokenVerifier,
  type LocalAccessTokenVerifier,
  type VerifiedTokenCacheOptions,
} from './tokens/verify-access-token.js';
