import { createRefreshTokenString } from '../../tokens/refresh-token.js';
import { bearer, ensure, expectProblem, expectStatus } from '../assert.js';
import type { ConformanceSession, LoginResult } from '../session.js';
import type { ConformanceCheck, ConformanceGroup } from '../types.js';

interface Pair {
  readonly access: string;
  readonly refresh: string;
}

function pairOf(body: unknown): Pair | undefined {
  const record = body as Record<string, unknown> | undefined;
  return typeof record?.access_token === 'string' && typeof record.refresh_token === 'string'
    ? { access: record.access_token, refresh: record.refresh_token }
    : undefined;
}

/** RFC 9700 4.14.2: refresh tokens rotate, and a replayed one revokes its family. */
export function refreshGroup(session: ConformanceSession, refreshPath: string): ConformanceGroup {
  const { api, options } = session;
  const refresh = (token: string) => api.post(refreshPath, { json: { refresh_token: token } });
  const loginPair = async (): Promise<Pair> => {
    const result: LoginResult = await session.login('user');
    ensure(result.refreshToken !== undefined, 'login answered no refresh_token', result.response);
    return { access: result.accessToken, refresh: result.refreshToken };
  };
  const rejected = async (token: string, what: string) => {
    const response = await refresh(token);
    expectStatus(response, [400, 401], what);
    expectProblem(response, what);
  };

  const checks: ConformanceCheck[] = [
    {
      id: 'refresh/login-response',
      title: 'login answers an OAuth2 token response (RFC 6749 5.1)',
      async run() {
        const { response } = await session.login('user');
        const body = response.body as Record<string, unknown>;
        ensure(typeof body.refresh_token === 'string', 'no refresh_token', response);
        ensure(
          String(body.token_type).toLowerCase() === 'bearer',
          'token_type must be "bearer"',
          response,
        );
        ensure(
          typeof body.expires_in === 'number' && body.expires_in > 0,
          'expires_in must be a positive number',
          response,
        );
        ensure(
          /no-store/.test(response.headers['cache-control'] ?? ''),
          'token responses need Cache-Control: no-store (RFC 6749 5.1)',
          response,
        );
      },
    },
    {
      id: 'refresh/rotation',
      title: 'a refresh returns a new pair and the new access token works',
      async run() {
        const first = await loginPair();
        const response = await refresh(first.refresh);
        expectStatus(response, 200, 'refresh');
        const next = pairOf(response.body);
        ensure(next !== undefined, 'refresh answered no access_token and refresh_token', response);
        ensure(next.refresh !== first.refresh, 'the refresh token must rotate', response);
        expectStatus(
          await api.get(options.routes.protected, { headers: bearer(next.access) }),
          [200, 204],
          'the refreshed access token',
        );
      },
    },
    {
      id: 'refresh/replay-revokes-family',
      title: 'replaying a spent refresh token is 401 and revokes the whole family',
      async run() {
        const first = await loginPair();
        const rotated = await refresh(first.refresh);
        expectStatus(rotated, 200, 'first refresh');
        const next = pairOf(rotated.body);
        ensure(next !== undefined, 'refresh answered no pair', rotated);
        const replay = await refresh(first.refresh);
        expectStatus(replay, 401, 'replayed refresh token');
        expectProblem(replay, 'replayed refresh token');
        const newest = await refresh(next.refresh);
        expectStatus(
          newest,
          401,
          'the newest token of a family whose token was replayed (RFC 9700 4.14.2)',
        );
      },
    },
    {
      id: 'refresh/unknown-token',
      title: 'an unknown refresh token and an access token are refused',
      async run() {
        await rejected(createRefreshTokenString(), 'an unknown refresh token');
        await rejected((await loginPair()).access, 'an access token sent as a refresh token');
        await rejected('', 'an empty refresh token');
      },
    },
  ];
  const logout = options.routes.logout;
  if (logout !== undefined) {
    checks.push({
      id: 'refresh/logout',
      title: 'logout revokes the family',
      async run() {
        const pair = await loginPair();
        const response = await api.post(logout, {
          json: { refresh_token: pair.refresh },
          headers: bearer(pair.access),
        });
        expectStatus(response, [200, 204], 'logout');
        await rejected(pair.refresh, 'a refresh token after logout');
      },
    });
  }
  return { id: 'refresh', title: 'refresh rotation and replay', checks };
}
