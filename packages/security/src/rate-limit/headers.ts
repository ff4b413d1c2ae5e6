import { type Context, createContextKey } from '@org/core';
import type { Decision } from './decision.js';

/**
 * Response headers of a rate-limit decision.
 *
 * draft-ietf-httpapi-ratelimit-headers-10: `RateLimit-Policy` (section 3) lists each
 * quota policy as `"name";q=<quota>;w=<window seconds>`; `RateLimit` (section 4)
 * gives each policy's state as `"name";r=<remaining>;t=<seconds to reset>`. Both are
 * Structured Field Lists (RFC 9651 section 3.1), so a second limiter on the same
 * request appends its items instead of replacing the first one's.
 */

/** Older header families some clients still read: `RateLimit-Limit/Remaining/Reset` (draft-ietf-httpapi-ratelimit-headers-06) and `X-RateLimit-*` (GitHub style, reset as Unix seconds). */
export type LegacyHeaders = 'ratelimit' | 'x-ratelimit';

/** Which header families a limiter writes, fixed at start-up. */
export interface HeaderSettings {
  readonly standard: boolean;
  readonly legacy: boolean;
  readonly xLegacy: boolean;
  /** `RateLimit-Policy` for all the limiter's policies, joined once. */
  readonly allPolicies: string;
  readonly policyCount: number;
}

/**
 * An integer as text, outside V8's number-to-string cache, which would keep one string
 * per request alive (the remaining count changes every time; bench/README.md has the
 * measurement).
 */
const digits = (n: number): string => n.toFixed(0);

/** The lowest remaining count already reported in legacy headers for this request. */
const legacyRemainingKey = createContextKey<number>('rateLimitLegacyRemaining');

/** Writes the headers for the policies that applied to one request. */
export function writeRateLimitHeaders(
  ctx: Context,
  settings: HeaderSettings,
  decisions: readonly Decision[],
  now: number,
): void {
  if (decisions.length === 0) return;
  let tightest: Decision | undefined;
  let state = '';
  let policies = '';
  for (const outcome of decisions) {
    if (settings.standard && decisions.length !== settings.policyCount) {
      policies =
        policies === ''
          ? outcome.compiled.policyItem
          : `${policies}, ${outcome.compiled.policyItem}`;
    }
    if (!outcome.known) continue;
    const { result } = outcome;
    if (settings.standard) {
      const item = `${outcome.compiled.limitItemStart}${digits(result.remaining)};t=${digits(Math.ceil(result.resetMs / 1000))}`;
      state = state === '' ? item : `${state}, ${item}`;
    }
    if (tightest === undefined || result.remaining < tightest.result.remaining) tightest = outcome;
  }
  if (settings.standard) {
    ctx.appendHeader('RateLimit-Policy', policies === '' ? settings.allPolicies : policies);
    if (state !== '') ctx.appendHeader('RateLimit', state);
  }
  if (tightest === undefined || !(settings.legacy || settings.xLegacy)) return;
  // Single-valued families: report the tightest policy across every limiter of the request.
  const reported = ctx.get(legacyRemainingKey);
  if (reported !== undefined && reported <= tightest.result.remaining) return;
  ctx.set(legacyRemainingKey, tightest.result.remaining);
  const limit = digits(tightest.compiled.limit);
  const remaining = digits(tightest.result.remaining);
  const resetSeconds = Math.ceil(tightest.result.resetMs / 1000);
  if (settings.legacy) {
    ctx.setHeader('RateLimit-Limit', limit);
    ctx.setHeader('RateLimit-Remaining', remaining);
    ctx.setHeader('RateLimit-Reset', digits(resetSeconds));
  }
  if (settings.xLegacy) {
    ctx.setHeader('X-RateLimit-Limit', limit);
    ctx.setHeader('X-RateLimit-Remaining', remaining);
    ctx.setHeader('X-RateLimit-Reset', digits(Math.ceil((now + tightest.result.resetMs) / 1000)));
  }
}
