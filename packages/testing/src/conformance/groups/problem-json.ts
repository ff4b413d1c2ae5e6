import { randomUUID } from 'node:crypto';
import { ensure, expectProblem, expectStatus } from '../assert.js';
import type { ConformanceSession } from '../session.js';
import type { ConformanceCheck, ConformanceGroup } from '../types.js';

/** RFC 9457: every error, whoever raised it, is one problem+json envelope that leaks nothing. */
export function problemJsonGroup(session: ConformanceSession): ConformanceGroup {
  const { api, options } = session;
  const { routes } = options;
  const requestIdHeader =
    options.requestIdHeader === false ? undefined : (options.requestIdHeader ?? 'x-request-id');
  const checks: ConformanceCheck[] = [
    {
      id: 'problem-json/not-found',
      title: 'an unknown route is a 404 problem that does not echo the path',
      async run() {
        const marker = `conformance-${randomUUID()}`;
        const response = await api.get(`/${marker}/%3Cscript%3E`);
        expectStatus(response, 404, 'unknown route');
        expectProblem(response, 'unknown route');
        ensure(!response.text.includes(marker), 'the 404 echoes the request path', response);
      },
    },
    {
      id: 'problem-json/unauthorized',
      title: 'a 401 is a problem',
      async run() {
        const response = await api.get(routes.protected);
        expectStatus(response, 401, 'protected route without a token');
        expectProblem(response, 'protected route without a token');
      },
    },
  ];
  if (requestIdHeader !== undefined) {
    checks.push({
      id: 'problem-json/request-id',
      title: 'a problem carries request_id equal to the request id header',
      async run() {
        const response = await api.get(routes.protected);
        const id = response.headers[requestIdHeader];
        ensure(id !== undefined, `the error response has no ${requestIdHeader}`, response);
        ensure(
          (response.body as Record<string, unknown>).request_id === id,
          'problem request_id differs from the header',
          response,
        );
      },
    });
  }
  const login = routes.login;
  if (login !== undefined) {
    checks.push({
      id: 'problem-json/malformed-body',
      title: 'malformed JSON is a 400 problem, not a parser message',
      async run() {
        const response = await api.post(login, {
          body: '{"username": "a", "password": ',
          headers: { 'content-type': 'application/json' },
        });
        expectStatus(response, [400, 422], 'malformed JSON body');
        expectProblem(response, 'malformed JSON body');
        ensure(
          !/Unexpected (end|token)|JSON at position/.test(response.text),
          'the problem repeats the parser message',
          response,
        );
      },
    });
    checks.push({
      id: 'problem-json/unsupported-media-type',
      title: 'an unsupported content type is a 4xx problem',
      async run() {
        const response = await api.post(login, {
          body: '<xml/>',
          headers: { 'content-type': 'application/xml' },
        });
        expectStatus(response, [400, 415, 422], 'XML body');
        expectProblem(response, 'XML body');
      },
    });
  }
  return { id: 'problem-json', title: 'problem+json on every error', checks };
}
