import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { freePort, type RedisServer, startRedis } from '@org/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { expectProblem } from './support/assertions.ts';
import { Api, type HttpResponse } from './support/http.ts';

/**
 * examples/two-instances: two instances of the express example behind a round-robin
 * proxy, sharing one real redis-server, the signing key and the database file.
 */
describe('examples/two-instances (two instances, one Redis, a proxy)', () => {
  const LIMIT = 40;
  let redis: RedisServer;
  let proxy: ChildProcess;
  let api: Api;
  let output = '';

  beforeAll(async () => {
    redis = await startRedis();
    const port = await freePort();
    proxy = spawn(process.execPath, ['src/main.ts'], {
      cwd: fileURLToPath(new URL('../../two-instances/', import.meta.url)),
      env: {
        PATH: process.env.PATH ?? '',
        PORT: String(port),
        REDIS_URL: redis.url,
        RATE_LIMIT_PER_MINUTE: String(LIMIT),
        LOG_LEVEL: 'warn',
        NODE_ENV: 'test',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proxy.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proxy.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    api = new Api(`http://127.0.0.1:${port}`);
    for (let i = 0; i < 900 && !output.includes('behind http'); i++) {
      if (proxy.exitCode !== null) throw new Error(`two-instances exited:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(output).toContain('behind http');
  }, 120_000);

  afterAll(async () => {
    if (proxy.exitCode === null) {
      const exited = once(proxy, 'exit');
      proxy.kill('SIGTERM');
      const [code] = await exited;
      expect(code, output).toBe(0);
    }
    await redis.stop();
  });

  /** Sends until one answer came from each instance. */
  async function fromBoth(send: () => Promise<HttpResponse>): Promise<HttpResponse[]> {
    const seen = new Map<string, HttpResponse>();
    for (let i = 0; i < 4 && seen.size < 2; i++) {
      const answer = await send();
      seen.set(answer.headers['x-served-by'] as string, answer);
    }
    expect([...seen.keys()].sort()).toEqual(['a', 'b']);
    return [...seen.values()];
  }

  it('a token minted by one instance is accepted by the other', async () => {
    const session = await api.signUp('two');
    for (const answer of await fromBoth(() =>
      api.get('/api/v1/users/me', { token: session.access_token }),
    )) {
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body).toMatchObject({ id: session.id });
    }
  });

  it('a refresh token rotated on one instance and replayed on the other is reuse', async () => {
    const session = await api.signUp('replay');
    const rotated = await api.post('/api/v1/auth/refresh', {
      json: { refresh_token: session.refresh_token },
    });
    expect(rotated.status, rotated.text).toBe(200);
    // The next request goes to the other instance (round robin).
    const replay = await api.post('/api/v1/auth/refresh', {
      json: { refresh_token: session.refresh_token },
    });
    expect(replay.headers['x-served-by']).not.toBe(rotated.headers['x-served-by']);
    expectProblem(replay, 401, 'ERR_REFRESH_REUSED');
  });

  it('a WebSocket through the proxy is authenticated by whichever instance takes it', async () => {
    const session = await api.signUp('socket');
    const ws = new WebSocket(`${api.baseUrl.replace(/^http/, 'ws')}/api/v1/ws`, [
      'bearer',
      session.access_token,
    ]);
    const [hello] = (await once(ws, 'message')) as [Buffer];
    expect(JSON.parse(String(hello))).toEqual({ type: 'hello', sub: session.id });
    ws.close(1000);
    await once(ws, 'close');
  });

  it('the per-IP limit holds across both instances', async () => {
    // The proxy sets X-Forwarded-For from the socket: one client, one shared counter.
    const first = await api.get('/api/v1/users/me');
    const left = Number(/;r=(\d+)/.exec(first.headers.ratelimit ?? '')?.[1]);
    expect(left).toBeLessThan(LIMIT);
    const served = new Set<string>();
    for (let i = 0; i < left; i++) {
      const answer = await api.get('/api/v1/users/me');
      served.add(answer.headers['x-served-by'] as string);
      expect(answer.status).toBe(401); // no token, but counted
    }
    expect([...served].sort()).toEqual(['a', 'b']);
    for (const answer of await fromBoth(() => api.get('/api/v1/users/me'))) {
      expectProblem(answer, 429, 'ERR_RATE_LIMITED');
      expect(answer.headers['retry-after']).toMatch(/^\d+$/);
    }
  });
});
