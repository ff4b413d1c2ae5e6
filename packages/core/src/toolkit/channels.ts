import { channel } from 'node:diagnostics_channel';
import type { Context } from '../context/context.js';

/**
 * Outcome events that feature packages publish and observability counts, through
 * `node:diagnostics_channel`: publishing costs nothing while nobody subscribes, and
 * no feature package has to import another.
 */

/** An authentication attempt's result, published by `@org/auth`. */
export interface AuthOutcomeEvent {
  /** The request the attempt belongs to, when there is one. */
  readonly ctx: Context | undefined;
  /** `success`, or the failure code (`ERR_TOKEN_EXPIRED`, `ERR_TOKEN_MISSING`, ...). */
  readonly outcome: string;
}

/** A rate-limit decision, published by `@org/security`. */
export interface RateLimitDecisionEvent {
  /** The request the decision belongs to, when there is one. */
  readonly ctx: Context | undefined;
  /** The policy name. */
  readonly policy: string;
  /** `allowed`, `limited`, or `store_error`. */
  readonly decision: 'allowed' | 'limited' | 'store_error';
}

/**
 * Channel of {@link AuthOutcomeEvent}s.
 *
 * @example
 * ```ts
 * authOutcomeChannel.subscribe((message) => {
 *   const { outcome, ctx } = message as AuthOutcomeEvent;
 *   if (outcome !== 'success') securityLog.warn({ outcome, client_ip: ctx?.clientIp }, 'auth failed');
 * });
 * ```
 */
export const authOutcomeChannel = channel('org.auth.outcome');
/**
 * Channel of {@link RateLimitDecisionEvent}s.
 *
 * @example
 * ```ts
 * rateLimitDecisionChannel.subscribe((message) => {
 *   const { policy, decision } = message as RateLimitDecisionEvent;
 *   if (decision === 'store_error') alerts.notify(`rate-limit store failing for ${policy}`);
 * });
 * ```
 */
export const rateLimitDecisionChannel = channel('org.security.rate-limit');

/** Fields every {@link SecurityEvent} carries. */
export interface SecurityEventBase {
  /** When it happened, in milliseconds since the epoch, from the publisher's clock. */
  readonly time: number;
}

/** Fields of a {@link SecurityEvent} that belongs to a request; undefined outside one. */
export interface SecurityEventRequest {
  /** The request id (`requestId()` plugin of `@org/observability`). */
  readonly request_id: string | undefined;
  /** The client address (the trusted-proxy resolution of `@org/security` when installed). */
  readonly client_ip: string | undefined;
}

/** A password was accepted (`authenticate` of `@org/auth`). */
export interface LoginSucceededEvent extends SecurityEventBase, SecurityEventRequest {
  /** The event's stable name. */
  readonly event: 'login.succeeded';
  /** The user who signed in; undefined only when `authenticate` cannot tell its id (give it `userId`). */
  readonly user_id: string | undefined;
}

/**
 * A sign-in was refused. The submitted login name (an email: PII) is never part of
 * it; `user_id` is there only when the name matched a user.
 */
export interface LoginFailedEvent extends SecurityEventBase, SecurityEventRequest {
  /** The event's stable name. */
  readonly event: 'login.failed';
  /** The user the name matched; undefined for an unknown name or a blocked attempt. */
  readonly user_id: string | undefined;
  /**
   * `unknown_user`, `no_password` (an SSO-only account), `wrong_password`, or
   * `locked_out` (refused by the login guard before any password check).
   */
  readonly reason: 'unknown_user' | 'no_password' | 'wrong_password' | 'locked_out';
}

/** What a login-guard lockout applies to: one account from one address, or one account everywhere. */
export type LockoutKeyKind = 'account_ip' | 'account';

/** A login-guard counter reached its limit: the next attempts are refused until `until`. */
export interface LockoutStartedEvent extends SecurityEventBase, SecurityEventRequest {
  /** The event's stable name. */
  readonly event: 'lockout.started';
  /** What is locked. The account name is never included. */
  readonly key_kind: LockoutKeyKind;
  /** When the lockout ends, in milliseconds since the epoch. */
  readonly until: number;
}

/**
 * A lockout this process started is over. Published by the first call to the same
 * login guard at or after `until` (no timer runs for it); `client_ip` is the address
 * of the attempt that started it, `request_id` that of the call that noticed the end.
 */
export interface LockoutEndedEvent extends SecurityEventBase, SecurityEventRequest {
  /** The event's stable name. */
  readonly event: 'lockout.ended';
  /** What was locked. */
  readonly key_kind: LockoutKeyKind;
  /** When the lockout ended, in milliseconds since the epoch. */
  readonly until: number;
}

/** A spent refresh token was presented again; its whole family has been revoked (RFC 9700 section 4.14.2). */
export interface RefreshReuseDetectedEvent extends SecurityEventBase, SecurityEventRequest {
  /** The event's stable name. */
  readonly event: 'refresh.reuse_detected';
  /** The revoked family (login session). */
  readonly family_id: string;
  /** The user the family belonged to. */
  readonly user_id: string;
  /** Always true: reuse revokes the family. */
  readonly family_revoked: true;
}

/**
 * A presented credential was refused. The response stays generic (`invalid_token`, the
 * code and a fixed description); `reason` is the stable code (`ERR_TOKEN_EXPIRED`,
 * `ERR_API_KEY_REVOKED`, `ERR_REFRESH_EXPIRED`, ...) and `detail` says what exactly failed,
 * which is never sent to the client. A request with no credential at all is not a refusal.
 */
export interface TokenRefusedEvent extends SecurityEventBase, SecurityEventRequest {
  /** The event's stable name. */
  readonly event: 'token.refused';
  /** Which kind of credential. */
  readonly credential: 'access_token' | 'api_key' | 'refresh_token';
  /** The stable code of the refusal. */
  readonly reason: string;
  /**
   * What failed, in a few fixed words (`signature verification failed`, `"aud" not
   * accepted`, `unknown "kid"`, `user inactive or gone`); never part of the response and
   * never the token. Set for access tokens, when the verifier said.
   */
  readonly detail?: string;
}

/**
 * The signing or verification keys changed: a local `KeySet.rotate`, or a remote issuer
 * whose published key set (JWKS) gained or dropped keys between two fetches.
 */
export interface KeysRotatedEvent extends SecurityEventBase {
  /** The event's stable name. */
  readonly event: 'keys.rotated';
  /** `'key_set'` for `KeySet.rotate`; `'jwks'` for a remote issuer's key set. */
  readonly source: 'key_set' | 'jwks';
  /** The key set's URL, for `source: 'jwks'`. */
  readonly jwks_uri?: string;
  /** The `kid` that signs from now on, for `source: 'key_set'`. */
  readonly kid?: string;
  /** The `kid`s that appeared: the new signing key, or keys the issuer now publishes (a replaced key counts as added and retired). */
  readonly added_kids: readonly string[];
  /** The `kid`s that stopped signing (a key set's still verify until removed), or that the issuer no longer publishes. */
  readonly retired_kids: readonly string[];
}

/** Fields of the API-key events. The key itself is never included. */
export interface ApiKeyEventFields extends SecurityEventBase, SecurityEventRequest {
  /** The key's id (the public part of the key). */
  readonly key_id: string;
  /** The user the key acts as. */
  readonly owner: string;
}

/** An API key was created (also by a rotation). */
export interface ApiKeyCreatedEvent extends ApiKeyEventFields {
  /** The event's stable name. */
  readonly event: 'api_key.created';
}

/** An API key was revoked. */
export interface ApiKeyRevokedEvent extends ApiKeyEventFields {
  /** The event's stable name. */
  readonly event: 'api_key.revoked';
}

/** A revoked API key was presented with its correct secret: a leaked or forgotten key. */
export interface ApiKeyUsedAfterRevocationEvent extends ApiKeyEventFields {
  /** The event's stable name. */
  readonly event: 'api_key.used_after_revocation';
}

/** A rate-limit policy refused a request (429). */
export interface RateLimitExceededEvent extends SecurityEventBase, SecurityEventRequest {
  /** The event's stable name. */
  readonly event: 'rate_limit.exceeded';
  /** The policy name. */
  readonly policy: string;
  /** What the policy counts by: `ip`, `user`, `route`, or `custom` (a key function). */
  readonly key_kind: 'ip' | 'user' | 'route' | 'custom';
}

/**
 * One security event, told apart by its stable `event` name. Events carry ids, codes
 * and addresses, never a password, a token, an API key or a login name.
 */
export type SecurityEvent =
  | LoginSucceededEvent
  | LoginFailedEvent
  | LockoutStartedEvent
  | LockoutEndedEvent
  | RefreshReuseDetectedEvent
  | TokenRefusedEvent
  | KeysRotatedEvent
  | ApiKeyCreatedEvent
  | ApiKeyRevokedEvent
  | ApiKeyUsedAfterRevocationEvent
  | RateLimitExceededEvent;

/** The stable name of each {@link SecurityEvent}. */
export type SecurityEventName = SecurityEvent['event'];

/**
 * Channel `org:security` of {@link SecurityEvent}s, published by `@org/auth` and
 * `@org/security` and written to the log by `securityEventLog` of
 * `@org/observability`. Publishers check `hasSubscribers` before building an event,
 * so the stream costs nothing while nobody listens.
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * subscribe(securityEventChannel.name, (message) => {
 *   const event = message as SecurityEvent;
 *   if (event.event === 'refresh.reuse_detected') alerts.notify(`session of ${event.user_id} replayed`);
 * });
 * ```
 */
export const securityEventChannel = channel('org:security');
