import type { TestResponse } from '../../requests/requester.js';
import { bearer, ensure } from '../assert.js';
import type { ConformanceSession } from '../session.js';
import type { ConformanceCheck, ConformanceGroup } from '../types.js';

/** What `@org/security`'s security headers set for a JSON API. */
export const DEFAULT_SECURITY_HEADERS: Readonly<Record<string, string | RegExp>> = Object.freeze({
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    /default-src 'none'.*frame-ancestors 'none'|frame-ancestors 'none'.*default-src 'none'/,
  'x-frame-options': /^deny$/i,
  'cross-origin-resource-policy': 'same-origin',
});

const FRAMEWORK = /express|fastify|koa|hono|node/i;

function checkHeaders(
  response: TestResponse,
  expected: Readonly<Record<string, string | RegExp>>,
  what: string,
) {
  for (const [name, rule] of Object.entries(expected)) {
    const value = response.headers[name.toLowerCase()];
    ensure(value !== undefined, `${what}: missing ${name}`, response);
    ensure(
      typeof rule === 'string' ? value === rule : rule.test(value),
      `${what}: ${name} is "${value}", expected ${String(rule)}`,
      response,
    );
  }
  ensure(
    response.headers['x-powered-by'] === undefined,
    `${what}: X-Powered-By reveals the framework`,
    response,
  );
  const server = response.headers.server;
  ensure(
    server === undefined || !FRAMEWORK.test(server),
    `${what}: Server reveals the framework`,
    response,
  );
}

/** The headers every response carries: on 2xx, 4xx alike. */
export function securityHeadersGroup(
  session: ConformanceSession,
  expected: Readonly<Record<string, string | RegExp>>,
): ConformanceGroup {
  const { api, options } = session;
  const { routes } = options;
  const checks: ConformanceCheck[] = [
    {
      id: 'security-headers/success',
      title: 'a 2xx response carries the security headers',
      async run() {
        const response = await api.get(routes.protected, {
          headers: bearer(await session.userToken()),
        });
        checkHeaders(response, expected, `GET ${routes.protected} (${response.status})`);
      },
    },
    {
      id: 'security-headers/unauthorized',
      title: 'a 401 carries the security headers',
      async run() {
        checkHeaders(await api.get(routes.protected), expected, '401');
      },
    },
    {
      id: 'security-headers/not-found',
      title: 'a 404 carries the security headers',
      async run() {
        checkHeaders(await api.get('/conformance-missing-route'), expected, '404');
      },
    },
  ];
  const open = routes.public ?? routes.jwks;
  if (open !== undefined) {
    checks.push({
      id: 'security-headers/public',
      title: 'a public route carries the security headers',
      async run() {
        checkHeaders(await api.get(open), expected, `GET ${open}`);
      },
    });
  }
  return { id: 'security-headers', title: 'security headers', checks };
}
