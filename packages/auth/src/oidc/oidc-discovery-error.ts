/** Stable codes of {@link OidcDiscoveryError}. */
export type OidcDiscoveryErrorCode = 'ERR_OIDC_DISCOVERY';

/**
 * The OpenID Provider configuration of an issuer could not be used: unreachable,
 * not JSON, an `issuer` other than the configured one (OpenID Connect Discovery 1.0
 * section 4.3), or a `jwks_uri` that is not https. The message names the issuer and
 * the reason. `OidcVerifier.ready()` rejects with it at start-up; during a request
 * it is the `cause` of a 503.
 *
 * @example
 * ```ts
 * try {
 *   await verifier.ready();
 * } catch (error) {
 *   if (error instanceof OidcDiscoveryError) logger.fatal(error.message);
 *   throw error;
 * }
 * ```
 */
export class OidcDiscoveryError extends Error {
  /** Stable code. */
  static readonly code: OidcDiscoveryErrorCode = 'ERR_OIDC_DISCOVERY';
  /** Stable code. */
  readonly code: OidcDiscoveryErrorCode = OidcDiscoveryError.code;
  /** The configured issuer whose discovery failed. */
  readonly issuer: string;

  constructor(issuer: string, reason: string, options?: { cause?: unknown }) {
    super(`OpenID discovery of ${issuer} failed: ${reason}.`, options);
    this.name = 'OidcDiscoveryError';
    this.issuer = issuer;
  }
}
