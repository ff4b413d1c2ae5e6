import { createHash, timingSafeEqual } from 'node:crypto';
import {
  ConfigurationError,
  type Context,
  ForbiddenError,
  type Reply,
  UnauthorizedError,
} from '@org/core';
import type { Registry } from 'prom-client';

/** Who may read `/metrics`: a bearer token, or your own decision (an IP allow-list). */
export type MetricsAuthorization = string | ((ctx: Context) => boolean | Promise<boolean>);

const MIN_TOKEN_LENGTH = 16;
const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Builds the request check, validated at start-up; undefined leaves the endpoint open. */
function authorizer(
  protect: MetricsAuthorization | undefined,
): ((ctx: Context) => void | Promise<void>) | undefined {
  if (protect === undefined) return undefined;
  if (typeof protect === 'function') {
    return async (ctx) => {
      if ((await protect(ctx)) !== true) {
        throw new ForbiddenError({ detail: 'Metrics are not available to this client.' });
      }
    };
  }
  if (typeof protect !== 'string' || protect.length < MIN_TOKEN_LENGTH) {
    throw new ConfigurationError(
      `createMetrics: protect must be a function or a bearer token of at least ${MIN_TOKEN_LENGTH} characters (for example 32 random bytes in hex).`,
    );
  }
  const expected = digest(protect);
  return (ctx) => {
    // RFC 6750 section 2.1: `Authorization: Bearer <token>`, scheme case-insensitive.
    const header = ctx.request.header('authorization');
    const match = header === undefined ? null : /^bearer +(\S+)\s*$/i.exec(header);
    if (match === null) {
      throw new UnauthorizedError({ challenge: 'Bearer realm="metrics"' });
    }
    // Comparing fixed-length digests in constant time: neither the token's content
    // nor its length leaks through timing.
    if (!timingSafeEqual(digest(match[1] as string), expected)) {
      throw new UnauthorizedError({
        challenge: 'Bearer realm="metrics", error="invalid_token"',
      });
    }
  };
}

/** The neutral `/metrics` handler: the registry in its own exposition format. */
export function createMetricsHandler(
  registry: Registry,
  protect: MetricsAuthorization | undefined,
): (ctx: Context) => Promise<Reply> {
  const check = authorizer(protect);
  return async (ctx) => {
    if (check !== undefined) await check(ctx);
    const body = await registry.metrics();
    return {
      status: 200,
      headers: { 'content-type': registry.contentType, 'cache-control': 'no-store' },
      body,
    };
  };
}
