import { afterAll, describe, it } from 'vitest';
import { ConformanceSkip } from './conformance-error.js';
import { createConformanceChecks } from './plan.js';
import type { SecurityConformanceOptions } from './types.js';

/**
 * Registers the security conformance suite as vitest tests: call it at the top
 * level of a test file (or inside a `describe`). Groups whose routes are not
 * configured are not registered and are reported through `log`. Groups run in
 * order, the rate-limit group last.
 *
 * What it attacks: every token forgery of RFC 8725 (see `deriveForgeries` and
 * `TokenFactory.forgeries`), 401 vs 403 and their `WWW-Authenticate`, refresh
 * rotation and replay, RFC 9457 problems on every error, security headers, CORS
 * with hostile origins, request id handling, and rate limits with spoofed
 * `X-Forwarded-For`.
 *
 * @example
 * ```ts
 * // test/security.test.ts
 * import { securityConformance } from '@org/testing/vitest';
 * import { buildApp } from '../src/app.js';
 *
 * securityConformance({
 *   app: await buildApp(),
 *   routes: {
 *     protected: '/api/v1/users/me', admin: '/api/v1/users',
 *     login: '/api/v1/auth/login', refresh: '/api/v1/auth/refresh', logout: '/api/v1/auth/logout',
 *     jwks: '/.well-known/jwks.json', rateLimited: '/api/v1/users/me', public: '/healthz',
 *   },
 *   credentials: { user: { username: 'ann@example.com', password: 'correct horse' },
 *                  admin: { username: 'root@example.com', password: 'battery staple' } },
 *   cors: { allowedOrigin: 'https://app.example.com' },
 *   rateLimit: { limit: 60 },
 * });
 * ```
 */
export function securityConformance(options: SecurityConformanceOptions): void {
  const plan = createConformanceChecks(options);
  describe(options.name ?? 'security conformance', () => {
    afterAll(() => plan.close());
    for (const group of plan.groups) {
      describe(group.title, () => {
        for (const check of group.checks) {
          it(check.title, async (context) => {
            try {
              await check.run();
            } catch (error) {
              if (error instanceof ConformanceSkip) context.skip(error.message);
              else throw error;
            }
          });
        }
      });
    }
  });
}
