import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoStore, expectProblem, expectRateLimitHeaders, remaining } from './assertions.ts';
import { type ExampleName, lazily, type RunningExample, startExample } from './example-process.ts';
import { Api, type HttpResponse } from './http.ts';
import type { ProcessGroup } from './suite.ts';

/** Polls `path` until `accept` holds (a state change in another process), for at most `ms`. */
export async function until(
  api: Api,
  path: string,
  accept: (response: HttpResponse) => boolean,
  ms = 10_000,
): Promise<HttpResponse> {
  const deadline = Date.now() + ms;
  for (;;) {
    const response = await api.get(path);
    if (accept(response) || Date.now() > deadline) return response;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * On a process started with no `RATE_LIMIT_PER_MINUTE`: the default 60 requests a
 * minute per client IP; then SIGTERM drains it and it exits 0.
 */
export function defaultLimitContract(name: ExampleName): ProcessGroup {
  const start = lazily(() => startExample(name, { env: { SHUTDOWN_DELAY_MS: '1000' } }));
  describe('default rate limit and graceful shutdown (own process)', () => {
    let example: RunningExample | undefined;
    let api: Api;
    beforeAll(async () => {
      example = await start();
      api = new Api(example.url);
    });
    afterAll(async () => {
      await example?.stop('SIGKILL');
    });

    it('allows 60 requests a minute per client IP, then answers 429 + Retry-After', async () => {
      for (let i = 0; i < 60; i++) {
        const response = await api.get('/api/v1/users/me');
        expect(response.status).toBe(401);
        expectRateLimitHeaders(response);
        expect(response.headers['ratelimit-policy']).toBe('"per-ip";q=60;w=60');
        expect(remaining(response)).toBe(59 - i);
      }
      const limited = await api.get('/api/v1/users/me');
      expectProblem(limited, 429, 'ERR_RATE_LIMITED');
      expectRateLimitHeaders(limited);
      expectNoStore(limited);
      expect(remaining(limited)).toBe(0);
      const retryAfter = Number(limited.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      // The quota is per client, whatever the route, and proxy headers do not make a new client.
      expectProblem(await api.post('/api/v1/auth/login', { json: {} }), 429);
      expectProblem(await api.get('/nowhere'), 429);
      const spoofed = await api.get('/api/v1/users/me', {
        headers: {
          'x-forwarded-for': '198.51.100.7',
          forwarded: 'for=203.0.113.9',
          'x-real-ip': '192.0.2.1',
        },
      });
      expectProblem(spoofed, 429);
      // Probes and metrics are never limited.
      expect((await api.get('/healthz')).status).toBe(200);
      expect((await api.get('/readyz')).status).toBe(200);
      expect((await api.get('/metrics')).status).toBe(200);
    });

    it('SIGTERM: readiness fails at once, liveness stays up, then a clean exit 0', async () => {
      const running = example as RunningExample;
      const exited = running.stop('SIGTERM');
      const draining = await until(api, '/readyz', (r) => r.status === 503, 2000);
      expect(draining.status).toBe(503);
      expect(draining.body).toMatchObject({ status: 'fail' });
      expect((await api.get('/healthz')).status).toBe(200);
      expect(await exited).toBe(0);
    });
  });
  return { warmUp: () => void start() };
}
