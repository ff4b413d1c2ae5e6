import { randomBytes } from 'node:crypto';

/**
 * A string shaped like an `@org/auth` refresh token (`<22-char family id>.<43-char
 * secret>`, base64url) that no store has ever issued: it must be a 401 on refresh,
 * and a 401 when sent as an access token.
 *
 * @param familyId reuse a real token's family id (its first 22 characters) to probe
 * guessing within a family. @default a random family id
 * @example
 * ```ts
 * const res = await api.post('/api/v1/auth/refresh', { json: { refresh_token: createRefreshTokenString() } });
 * expect(res.status).toBe(401);
 * ```
 */
export function createRefreshTokenString(familyId?: string): string {
  const family = familyId ?? randomBytes(16).toString('base64url');
  return `${family}.${randomBytes(32).toString('base64url')}`;
}
