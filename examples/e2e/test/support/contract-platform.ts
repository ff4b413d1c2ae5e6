import { once } from 'node:events';
import { type IncomingHttpHeaders, request } from 'node:http';
import { connect } from 'node:net';
import { rawExchange } from '@org/test-support';
import { expect, it } from 'vitest';
import {
  expectNoStore,
  expectProblem,
  expectRateLimitHeaders,
  expectStandardHeaders,
} from './assertions.ts';
import type { ContractContext } from './suite.ts';

/** An operation of `/openapi.json`, as far as the lint checks read it. */
interface LintedOperation {
  operationId?: string;
  summary?: string;
  security?: unknown;
  responses: Record<string, { content?: Record<string, unknown> }>;
}

/** Probes: not rate limited, not protected, so they document no 4xx. */
const PROBE_OPERATIONS = new Set(['GET /healthz', 'GET /readyz', 'GET /metrics']);

/** POSTs JSON headers announcing `length` bytes, sends none of them, and reads the answer. */
function announceBody(
  url: string,
  length: number,
): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(length) },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
        req.destroy(); // the announced body is never sent
      });
      res.on('error', reject);
    });
    req.flushHeaders();
  });
}

/** JWKS, probes, metrics, problems for every error, request ids, CORS and the API reference. */
export function platformContract(get: () => ContractContext): void {
  it('GET /.well-known/jwks.json: the public signing key only', async () => {
    const { api, tokens, reader: user } = get();
    const response = await api.get('/.well-known/jwks.json');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/jwk-set\+json/);
    expectStandardHeaders(response);
    const jwks = JSON.parse(response.text) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({
      kty: 'EC',
      crv: 'P-256',
      alg: 'ES256',
      kid: tokens.key.kid,
    });
    expect(jwks.keys[0]).not.toHaveProperty('d');
    // And a token signed with that key is accepted (for a user that exists).
    const minted = await tokens.accessToken({ subject: user.id, roles: ['user'] });
    expect((await api.get('/api/v1/users/me', { token: minted })).status).toBe(200);
  });

  it('GET /healthz and /readyz: 200 application/health+json with the database check', async () => {
    const { api } = get();
    const live = await api.get('/healthz');
    expect(live.status).toBe(200);
    expect(live.headers['content-type']).toMatch(/^application\/health\+json/);
    expect(live.body).toEqual({ status: 'pass' });
    expectStandardHeaders(live);
    const ready = await api.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: 'pass',
      checks: { 'database:responseTime': [{ status: 'pass' }] },
    });
  });

  it('GET /metrics: Prometheus text labelled by route template, never by raw path', async () => {
    const { api, reader: user } = get();
    await api.get('/api/v1/users/me', { token: user.access_token });
    await api.get(`/no/such/path/${user.id}`);
    const response = await api.get('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.text).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/users\/me",status_code="200"\} \d+/,
    );
    expect(response.text).toMatch(/route="unmatched"/);
    expect(response.text).not.toContain(user.id);
    expect(response.text).toMatch(/auth_outcomes_total\{outcome="success"\} \d+/);
    expect(response.text).toMatch(
      /rate_limit_decisions_total\{policy="per-ip",decision="allowed"\}/,
    );
  });

  it('every error is a problem+json with the standard and RateLimit headers', async () => {
    const { api } = get();
    const missing = await api.get('/no/such/route/%3Cscript%3E');
    expectProblem(missing, 404, 'ERR_NOT_FOUND');
    expect(missing.text).not.toContain('script');
    expectRateLimitHeaders(missing);
    // Only /api answers are personal: the 404 of another path may be stored.
    const apiMissing = await api.get('/api/v1/no-such-route');
    expectProblem(apiMissing, 404, 'ERR_NOT_FOUND');
    expectNoStore(apiMissing);
    const malformed = await api.post('/api/v1/auth/login', {
      headers: { 'content-type': 'application/json' },
      body: '{"email": "a@example.com", "password": ',
    });
    expectProblem(malformed, 400);
    const unsupported = await api.post('/api/v1/auth/register', {
      headers: { 'content-type': 'text/xml' },
      body: '<user/>',
    });
    expectProblem(unsupported, 415);
    // The server answers 413 from Content-Length alone and closes without reading the
    // body. A client still uploading then races the close (EPIPE, even with fetch), so
    // this one announces 2 MiB, sends only the headers and reads the answer.
    const huge = await announceBody(`${api.baseUrl}/api/v1/auth/register`, 2 * 1024 * 1024);
    expect(huge.status).toBe(413);
    expect(huge.headers['content-type']).toContain('application/problem+json');
    expect((JSON.parse(huge.text) as { code: string }).code).toBe('ERR_BODY_TOO_LARGE');
  });

  it('X-Request-Id: a valid incoming id is echoed, a hostile one replaced', async () => {
    const { api } = get();
    const kept = await api.get('/healthz', { headers: { 'x-request-id': 'trace-abc.123' } });
    expect(kept.headers['x-request-id']).toBe('trace-abc.123');
    const replaced = await api.get('/no/such', { headers: { 'x-request-id': '<b>x</b>' } });
    expect(replaced.headers['x-request-id']).not.toContain('<');
    expect((replaced.body as { request_id: string }).request_id).toBe(
      replaced.headers['x-request-id'],
    );
  });

  it('CORS: an allowed origin may read, any other gets no grant', async () => {
    const { api, corsOrigin } = get();
    const allowed = await api.get('/healthz', { headers: { origin: corsOrigin } });
    expect(allowed.headers['access-control-allow-origin']).toBe(corsOrigin);
    expect(allowed.headers.vary).toMatch(/Origin/);
    expect(allowed.headers['access-control-expose-headers']).toMatch(/X-Request-Id/i);
    const preflight = await api.request('OPTIONS', '/api/v1/users/me', {
      headers: { origin: corsOrigin, 'access-control-request-method': 'PATCH' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-methods']).toMatch(/PATCH/);
    const evil = await api.get('/healthz', { headers: { origin: 'https://evil.example' } });
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('GET /openapi.json: OpenAPI 3.1 generated from the route schemas', async () => {
    const { api } = get();
    const response = await api.get('/openapi.json');
    expect(response.status).toBe(200);
    expectStandardHeaders(response);
    const doc = response.body as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown; parameters?: unknown[] }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    expect(doc.openapi).toMatch(/^3\.1\./);
    const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations).toEqual(
      expect.arrayContaining([
        'POST /api/v1/auth/register',
        'POST /api/v1/auth/login',
        'POST /api/v1/auth/refresh',
        'POST /api/v1/auth/logout',
        'GET /api/v1/users/me',
        'PATCH /api/v1/users/me',
        'GET /api/v1/users',
        'DELETE /api/v1/users/{id}',
        'GET /.well-known/jwks.json',
        'GET /healthz',
        'GET /readyz',
        'GET /metrics',
      ]),
    );
    expect(doc.paths['/api/v1/auth/register']?.post?.requestBody).toMatchObject({
      content: { 'application/json': { schema: { $ref: '#/components/schemas/RegisterRequest' } } },
    });
    expect(doc.components.schemas.RegisterRequest?.properties).toHaveProperty('password');
    expect(Object.keys(doc.components.schemas.User?.properties ?? {})).not.toContain(
      'password_hash',
    );
    expect(doc.paths['/api/v1/users']?.get?.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'limit', in: 'query' })]),
    );
  });

  it('GET /openapi.json: what `redocly lint` (recommended) asks of every operation', async () => {
    const { api } = get();
    const doc = (await api.get('/openapi.json')).body as {
      info: { license?: { name: string } };
      servers?: { url: string }[];
      paths: Record<string, Record<string, LintedOperation>>;
    };
    expect(doc.info.license?.name).toBe('MIT');
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
    const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, op })),
    );
    const ids = operations.map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(operations.length);
    for (const { name, op } of operations) {
      expect(op.operationId, name).toMatch(/^[A-Za-z][A-Za-z0-9]*$/);
      expect(op.summary, name).toEqual(expect.any(String));
      expect(op.security, name).toEqual(expect.any(Array));
      const problems = Object.entries(op.responses).filter(([status]) => /^4\d\d$/.test(status));
      // The probes are neither rate limited nor protected: no 4xx applies to them.
      if (!PROBE_OPERATIONS.has(name)) expect(problems.length, name).toBeGreaterThan(0);
      for (const [status, response] of problems) {
        expect(Object.keys(response.content ?? {}), `${name} ${status}`).toEqual([
          'application/problem+json',
        ]);
      }
    }
    const byName = Object.fromEntries(operations.map(({ name, op }) => [name, op]));
    expect(byName['POST /api/v1/auth/login']?.security).toEqual([]);
    expect(byName['GET /healthz']?.security).toEqual([]);
    expect(byName['GET /api/v1/users/me']?.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(byName['DELETE /api/v1/users/{id}']?.responses ?? {})).toEqual(
      expect.arrayContaining(['401', '403', '404', '422', '429']),
    );
    expect(Object.keys(byName['POST /api/v1/auth/register']?.responses ?? {})).toEqual(
      expect.arrayContaining(['409', '422', '429']),
    );
  });

  it("what Node's HTTP parser rejects is a problem too, and the connection closes", async () => {
    const { example } = get();
    const huge = await rawExchange(
      example.url,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(huge).toMatch(/^HTTP\/1\.1 431 /);
    expect(huge).toContain('content-type: application/problem+json');
    expect(huge).toContain('"code":"ERR_HEADERS_TOO_LARGE"');
    const unknown = await rawExchange(example.url, 'FOO /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(unknown).toMatch(/^HTTP\/1\.1 400 /);
    expect(unknown).toContain('"code":"ERR_BAD_REQUEST"');
    expect(unknown).not.toContain('FOO');
  });

  it('a connection that sends nothing (a preconnect) does not hold the graceful shutdown', async () => {
    // Left open on purpose: the group's SIGTERM must still exit 0 at once (see suite.ts).
    const preconnect = connect(get().example.port, '127.0.0.1');
    preconnect.on('error', () => {});
    await once(preconnect, 'connect');
  });

  it('GET /docs: the interactive reference, served from this server only', async () => {
    const { api } = get();
    const page = await api.get('/docs');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(page.text).not.toMatch(/https?:\/\//);
    const scripts = [...page.text.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1] as string);
    expect(scripts.length).toBeGreaterThan(0);
    for (const src of scripts) {
      const script = await api.get(src);
      expect(script.status, src).toBe(200);
      expect(script.headers['content-type'], src).toMatch(/^text\/javascript/);
    }
  });
}
