import type { TestResponse } from '../../requests/requester.js';
import { ensure, expectStatus } from '../assert.js';
import type { ConformanceSession } from '../session.js';
import type { ConformanceCheck, ConformanceGroup } from '../types.js';

/**
 * Origins a strict allow-list must refuse, built around the allowed one (issue 5: evil, null, suffix, prefix).
 *
 * @example
 * ```ts
 * for (const origin of hostileOrigins('https://app.example.com')) {
 *   // 'https://evil.example', 'null', 'https://app.example.com.evil.example', 'http://app.example.com', ...
 *   const res = await api.get('/api/v1/users/me', { headers: { origin } });
 *   expect(res.headers['access-control-allow-origin']).toBeUndefined();
 * }
 * ```
 */
export function hostileOrigins(allowedOrigin: string): readonly string[] {
  const url = new URL(allowedOrigin);
  const other = url.protocol === 'https:' ? 'http:' : 'https:';
  return [
    'https://evil.example',
    'null',
    `${allowedOrigin}.evil.example`,
    `${url.protocol}//evil${url.host}`,
    `${url.protocol}//evil.${url.host}`,
    `${other}//${url.host}`,
    `${url.protocol}//${url.hostname}:${url.port === '8443' ? '9443' : '8443'}`,
    `${allowedOrigin}\`.evil.example`,
  ];
}

function hasToken(list: string | undefined, token: string): boolean {
  return (list ?? '')
    .split(',')
    .some((item) => item.trim().toLowerCase() === token.toLowerCase() || item.trim() === '*');
}

function refused(response: TestResponse, origin: string, what: string): void {
  const allow = response.headers['access-control-allow-origin'];
  ensure(allow !== origin, `${what}: the origin ${JSON.stringify(origin)} is echoed`, response);
  ensure(allow !== '*', `${what}: "*" allows every origin`, response);
}

/** Fetch standard CORS with an exact allow-list: only the listed origin is ever granted. */
export function corsGroup(session: ConformanceSession, allowedOrigin: string): ConformanceGroup {
  const { api, options } = session;
  const path = options.routes.public ?? options.routes.jwks ?? options.routes.protected;
  const simple = (origin: string) => api.get(path, { headers: { origin } });
  const preflight = (origin: string) =>
    api.request('OPTIONS', options.routes.protected, {
      headers: {
        origin,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
  const checks: ConformanceCheck[] = [
    {
      id: 'cors/allowed-origin',
      title: 'the allowed origin is granted, with Vary: Origin and the toolkit headers exposed',
      async run() {
        const response = await simple(allowedOrigin);
        ensure(
          response.headers['access-control-allow-origin'] === allowedOrigin,
          'the allowed origin is not granted',
          response,
        );
        ensure(hasToken(response.headers.vary, 'origin'), 'Vary: Origin is missing', response);
        const idHeader =
          options.requestIdHeader === false
            ? undefined
            : (options.requestIdHeader ?? 'x-request-id');
        if (idHeader !== undefined) {
          ensure(
            hasToken(response.headers['access-control-expose-headers'], idHeader),
            `${idHeader} is not exposed`,
            response,
          );
        }
      },
    },
    {
      id: 'cors/preflight',
      title: 'a preflight from the allowed origin is answered with methods and headers',
      async run() {
        const response = await preflight(allowedOrigin);
        expectStatus(response, [200, 204], 'preflight');
        ensure(
          response.headers['access-control-allow-origin'] === allowedOrigin,
          'preflight does not grant the allowed origin',
          response,
        );
        ensure(
          hasToken(response.headers['access-control-allow-methods'], 'GET'),
          'GET is not in Access-Control-Allow-Methods',
          response,
        );
        ensure(
          hasToken(response.headers['access-control-allow-headers'], 'authorization'),
          'Authorization is not in Access-Control-Allow-Headers',
          response,
        );
      },
    },
    {
      id: 'cors/hostile-origins',
      title: 'evil, null, suffix-, prefix-, scheme- and port-tricked origins are never echoed',
      async run() {
        for (const origin of hostileOrigins(allowedOrigin)) {
          const response = await simple(origin);
          refused(response, origin, `GET with Origin ${origin}`);
          ensure(
            hasToken(response.headers.vary, 'origin'),
            `GET with Origin ${origin}: Vary: Origin is missing`,
            response,
          );
          refused(await preflight(origin), origin, `preflight from ${origin}`);
        }
      },
    },
    {
      id: 'cors/credentials-not-wildcard',
      title: 'credentials are never allowed together with "*"',
      async run() {
        for (const origin of [allowedOrigin, 'https://evil.example']) {
          const response = await simple(origin);
          ensure(
            !(
              response.headers['access-control-allow-origin'] === '*' &&
              response.headers['access-control-allow-credentials'] === 'true'
            ),
            'Access-Control-Allow-Origin "*" with credentials',
            response,
          );
        }
      },
    },
  ];
  return { id: 'cors', title: 'CORS origin handling', checks };
}
