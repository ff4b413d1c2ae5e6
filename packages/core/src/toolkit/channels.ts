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
