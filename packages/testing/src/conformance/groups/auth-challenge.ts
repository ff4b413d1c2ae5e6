import {
  bearer,
  ensure,
  expectChallenge,
  expectInvalidToken,
  expectProblem,
  expectStatus,
} from '../assert.js';
import type { ConformanceSession } from '../session.js';
import type { ConformanceGroup } from '../types.js';

/** RFC 6750 3.1 and RFC 9110 15.5: who you are is a 401, what you may do is a 403. */
export function authChallengeGroup(session: ConformanceSession, admin: string): ConformanceGroup {
  const get = (headers: Record<string, string> = {}) => session.api.get(admin, { headers });
  return {
    id: 'auth-challenge',
    title: '401 vs 403',
    checks: [
      {
        id: 'auth-challenge/no-token',
        title: 'no token on the admin route is 401 (not 403) with a bare Bearer challenge',
        async run() {
          const response = await get();
          expectStatus(response, 401, 'admin route without a token');
          expectChallenge(response, undefined, 'admin route without a token');
          expectProblem(response, 'admin route without a token');
        },
      },
      {
        id: 'auth-challenge/bad-token',
        title: 'a bad token on the admin route is 401 invalid_token, checked before roles',
        async run() {
          const forged = (await session.forgeries()).find((f) => f.name === 'tampered-payload');
          expectInvalidToken(
            await get(bearer(forged?.token ?? 'not-a-token')),
            'tampered token on the admin route',
          );
        },
      },
      {
        id: 'auth-challenge/insufficient-role',
        title: 'a valid non-admin token is 403 problem+json, without an invalid_token challenge',
        async run() {
          const response = await get(bearer(await session.userToken()));
          expectStatus(response, 403, 'user token on the admin route');
          expectProblem(response, 'user token on the admin route');
          const challenge = response.headers['www-authenticate'];
          ensure(
            challenge === undefined || challenge.includes('error="insufficient_scope"'),
            'a 403 may only challenge with error="insufficient_scope" (RFC 6750 3.1)',
            response,
          );
        },
      },
      {
        id: 'auth-challenge/admin',
        title: 'an admin token is allowed',
        async run() {
          const response = await get(bearer(await session.adminToken()));
          expectStatus(response, [200, 204], 'admin token on the admin route');
        },
      },
    ],
  };
}
