import { channel } from 'node:diagnostics_channel';
import { ConfigurationError, type Context, createToolkit, type ResponseInfo } from '@org/core';
import { adapters, deferred, type RunningApp } from '@org/test-support';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { requestId } from '../request-id/request-id.js';
import { createMetrics, type Metrics, type MetricsOptions } from './create-metrics.js';

const TOKEN = 'metrics-token-0123456789abcdef';

/** Number of series (label combinations) in a registry. */
async function seriesCount(registry: Registry): Promise<number> {
  const metrics = await registry.getMetricsAsJSON();
  return metrics.reduce((sum, metric) => sum + metric.values.length, 0);
}

async function durationSeries(registry: Registry) {
  const metric = (await registry.getMetricsAsJSON()).find(
    (m) => m.name === 'http_request_duration_seconds',
  );
  return (metric?.values ?? []).filter(
    (v) => (v as { metricName?: string }).metricName === 'http_request_duration_seconds_count',
  );
}

describe('createMetrics options', () => {
  it('rejects bad options at construction, naming the option', () => {
    expect(() => createMetrics({ buckets: [1, 0.5] })).toThrow(/buckets/);
    expect(() => createMetrics({ prefix: '9bad' })).toThrow(/prefix/);
    expect(() => createMetrics({ protect: 'short' })).toThrow(/protect/);
    expect(() => createMetrics({ labelCacheSize: 0 })).toThrow(/labelCacheSize/);
    const registry = new Registry();
    createMetrics({ registry }).close();
    expect(() => createMetrics({ registry })).toThrow(ConfigurationError);
  });

  it('uses its own registry, never the global one, and can add process metrics', async () => {
    const metrics = createMetrics({ collectDefaultMetrics: true });
    const names = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names).toContain('process_cpu_user_seconds_total');
    expect(names).toContain('http_requests_in_flight');
    metrics.close();
  });
});

/** Runs the plugin's response hook for one request, as an adapter would. */
function respond(
  metrics: Metrics,
  request: { method: string; route: string | undefined; status: number },
  durationMs: number,
): void {
  const { method, route, status } = request;
  const ctx = { request: { method, route }, get: () => undefined } as unknown as Context;
  const info: ResponseInfo = { status, aborted: false, error: undefined, bytes: 0, durationMs };
  metrics.plugin.onResponse?.(ctx, info);
}

/** The `/metrics` exposition, through the handler. */
async function exposition(metrics: Metrics): Promise<string> {
  return String((await metrics.handler({} as never)).body);
}

describe('http_request_duration_seconds', () => {
  it('renders each series with cumulative buckets, sum and count', async () => {
    const metrics = createMetrics({ buckets: [0.005, 0.1, 1] });
    respond(metrics, { method: 'GET', route: '/users/:id', status: 200 }, 3);
    respond(metrics, { method: 'GET', route: '/users/:id', status: 200 }, 5); // exactly on a bound: counted in it
    respond(metrics, { method: 'GET', route: '/users/:id', status: 200 }, 700);
    respond(metrics, { method: 'GET', route: '/users/:id', status: 404 }, 12_000); // past the last bound: +Inf only
    respond(metrics, { method: 'PROPFIND', route: undefined, status: 404 }, 1);
    const series = (method: string, route: string, status: number) =>
      `method="${method}",route="${route}",status_code="${status}"`;
    const ok = series('GET', '/users/:id', 200);
    const missing = series('GET', '/users/:id', 404);
    const other = series('OTHER', 'unmatched', 404);
    const text = await exposition(metrics);
    expect(text).toContain(
      [
        '# HELP http_request_duration_seconds Duration of HTTP requests in seconds, by method, route template and status code.',
        '# TYPE http_request_duration_seconds histogram',
        `http_request_duration_seconds_bucket{le="0.005",${ok}} 2`,
        `http_request_duration_seconds_bucket{le="0.1",${ok}} 2`,
        `http_request_duration_seconds_bucket{le="1",${ok}} 3`,
        `http_request_duration_seconds_bucket{le="+Inf",${ok}} 3`,
        `http_request_duration_seconds_sum{${ok}} 0.708`,
        `http_request_duration_seconds_count{${ok}} 3`,
        `http_request_duration_seconds_bucket{le="0.005",${missing}} 0`,
        `http_request_duration_seconds_bucket{le="0.1",${missing}} 0`,
        `http_request_duration_seconds_bucket{le="1",${missing}} 0`,
        `http_request_duration_seconds_bucket{le="+Inf",${missing}} 1`,
        `http_request_duration_seconds_sum{${missing}} 12`,
        `http_request_duration_seconds_count{${missing}} 1`,
        `http_request_duration_seconds_bucket{le="0.005",${other}} 1`,
      ].join('\n'),
    );
    metrics.close();
  });

  it('keeps at most labelCacheSize combinations and counts the rest under route="other"', async () => {
    const metrics = createMetrics({ labelCacheSize: 2 });
    respond(metrics, { method: 'GET', route: '/a', status: 200 }, 10);
    respond(metrics, { method: 'GET', route: '/b', status: 200 }, 10);
    for (let i = 0; i < 50; i++)
      respond(metrics, { method: 'GET', route: `/route-${i}`, status: 200 }, 10);
    respond(metrics, { method: 'GET', route: '/a', status: 200 }, 10); // a kept series still counts
    const counts = (await exposition(metrics))
      .split('\n')
      .filter((line) => line.startsWith('http_request_duration_seconds_count'));
    expect(counts).toEqual([
      'http_request_duration_seconds_count{method="GET",route="/a",status_code="200"} 2',
      'http_request_duration_seconds_count{method="GET",route="/b",status_code="200"} 1',
      'http_request_duration_seconds_count{method="GET",route="other",status_code="200"} 50',
    ]);
    metrics.close();
  });

  it('forgets every series on registry.resetMetrics() and counts again after it', async () => {
    const metrics = createMetrics();
    respond(metrics, { method: 'GET', route: '/a', status: 200 }, 10);
    metrics.registry.resetMetrics();
    expect(await exposition(metrics)).not.toContain('http_request_duration_seconds_count');
    respond(metrics, { method: 'GET', route: '/a', status: 200 }, 10);
    expect(await exposition(metrics)).toContain(
      'http_request_duration_seconds_count{method="GET",route="/a",status_code="200"} 1',
    );
    metrics.close();
  });
});

describe('the /metrics handler', () => {
  it('replies with the registry exposition and its exact content type', async () => {
    const metrics = createMetrics();
    const reply = await metrics.handler({} as never);
    expect(reply.status).toBe(200);
    expect(reply.headers).toMatchObject({
      'content-type': 'text/plain; version=0.0.4; charset=utf-8',
      'cache-control': 'no-store',
    });
    expect(reply.body).toContain('# TYPE http_requests_in_flight gauge');
    metrics.close();
  });
});

describe('auth and rate-limit counters', () => {
  it('counts events from the core channels, bounds odd values, and stops on close()', async () => {
    const metrics = createMetrics();
    const auth = channel('org.auth.outcome');
    const rate = channel('org.security.rate-limit');
    auth.publish({ ctx: undefined, outcome: 'success' });
    auth.publish({ ctx: undefined, outcome: 'ERR_TOKEN_EXPIRED' });
    auth.publish({ ctx: undefined, outcome: 'ERR_TOKEN_EXPIRED' });
    auth.publish({ ctx: undefined, outcome: 'has spaces\nand newline' });
    rate.publish({ ctx: undefined, policy: 'login', decision: 'limited' });
    rate.publish({ ctx: undefined, policy: 'login', decision: 'allowed' });
    const text = await metrics.registry.metrics();
    expect(text).toContain('auth_outcomes_total{outcome="success"} 1');
    expect(text).toContain('auth_outcomes_total{outcome="ERR_TOKEN_EXPIRED"} 2');
    expect(text).toContain('auth_outcomes_total{outcome="other"} 1');
    expect(text).toContain('rate_limit_decisions_total{policy="login",decision="limited"} 1');
    expect(text).toContain('rate_limit_decisions_total{policy="login",decision="allowed"} 1');
    metrics.close();
    auth.publish({ ctx: undefined, outcome: 'success' });
    expect(await metrics.registry.metrics()).toContain('auth_outcomes_total{outcome="success"} 1');
  });

  it('adds each event once, whichever read comes first', async () => {
    const metrics = createMetrics();
    const auth = channel('org.auth.outcome');
    const successes = async () =>
      (await metrics.registry.getSingleMetric('auth_outcomes_total')?.get())?.values.find(
        (v) => v.labels.outcome === 'success',
      )?.value;
    auth.publish({ ctx: undefined, outcome: 'success' });
    expect(await successes()).toBe(1);
    expect(await metrics.registry.metrics()).toContain('auth_outcomes_total{outcome="success"} 1');
    auth.publish({ ctx: undefined, outcome: 'success' });
    auth.publish({ ctx: undefined, outcome: 'success' });
    expect(await metrics.registry.metrics()).toContain('auth_outcomes_total{outcome="success"} 3');
    expect(await successes()).toBe(3);
    metrics.close();
  });
});

describe.each(adapters)('metrics on $name', (fixture) => {
  let app: RunningApp | undefined;
  let metrics: Metrics | undefined;
  afterEach(async () => {
    await app?.close();
    metrics?.close();
    app = undefined;
  });

  const start = async (options: MetricsOptions = {}) => {
    metrics = createMetrics(options);
    const release = deferred();
    const started = deferred();
    const toolkit = createToolkit({ plugins: [requestId(), metrics.plugin] });
    app = await fixture.start(toolkit, [
      { method: 'GET', path: '/users/:id', handler: () => ({ body: { ok: true } }) },
      { method: 'GET', path: '/metrics', handler: metrics.handler },
      {
        method: 'GET',
        path: '/slow',
        handler: async () => {
          started.resolve();
          await release.promise;
          return { body: 'done' };
        },
      },
    ]);
    return { url: app.url, registry: metrics.registry, release, started: started.promise };
  };

  it('labels durations by route template, never by raw path', async () => {
    const { url, registry } = await start();
    for (const id of ['1', '2', 'abc']) await (await fetch(`${url}/users/${id}`)).text();
    await (await fetch(`${url}/nope/1`)).text();
    const series = await durationSeries(registry);
    expect(series.map((s) => s.labels)).toEqual(
      expect.arrayContaining([
        { method: 'GET', route: '/users/:id', status_code: '200' },
        { method: 'GET', route: 'unmatched', status_code: '404' },
      ]),
    );
    expect(series.find((s) => s.labels.route === '/users/:id')?.value).toBe(3);
    expect(JSON.stringify(await registry.getMetricsAsJSON())).not.toContain('/users/1');
  });

  it('adds no series for 300 requests to random unknown paths', async () => {
    const { url, registry } = await start();
    await (await fetch(`${url}/warm-up`)).text();
    const before = await seriesCount(registry);
    const paths = Array.from({ length: 300 }, () => `/${crypto.randomUUID()}/${Math.random()}`);
    for (let i = 0; i < paths.length; i += 50) {
      await Promise.all(
        paths.slice(i, i + 50).map((p) => fetch(`${url}${p}`).then((r) => r.text())),
      );
    }
    expect(await seriesCount(registry)).toBe(before);
    const unmatched = (await durationSeries(registry)).find((s) => s.labels.route === 'unmatched');
    expect(unmatched?.value).toBe(301);
  });

  it('tracks requests in flight', async () => {
    const { url, registry, release, started } = await start();
    const gauge = async () =>
      (await registry.getSingleMetric('http_requests_in_flight')?.get())?.values[0]?.value;
    const pending = fetch(`${url}/slow`).then((r) => r.text());
    await started;
    expect(await gauge()).toBe(1);
    release.resolve();
    expect(await pending).toBe('done');
    await expect.poll(gauge).toBe(0);
  });

  it('serves /metrics in the registry content type', async () => {
    const { url, registry } = await start();
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    // The Reply carries registry.contentType exactly (see the unit test above); the
    // express test fixture's res.type('text') drops its version parameter.
    expect(response.headers.get('content-type')).toMatch(/^text\/plain;.*charset=utf-8/);
    expect(registry.contentType).toContain('version=0.0.4');
    expect(await response.text()).toContain('# TYPE http_request_duration_seconds histogram');
  });

  it('protects /metrics with a bearer token', async () => {
    const { url } = await start({ protect: TOKEN });
    const missing = await fetch(`${url}/metrics`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    const wrong = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const right = await fetch(`${url}/metrics`, { headers: { authorization: `bearer ${TOKEN}` } });
    expect(right.status).toBe(200);
    expect(await right.text()).toContain('http_requests_in_flight');
  });

  it('protects /metrics with a function', async () => {
    const { url } = await start({ protect: (ctx) => ctx.request.header('x-internal') === 'yes' });
    expect((await fetch(`${url}/metrics`)).status).toBe(403);
    expect((await fetch(`${url}/metrics`, { headers: { 'x-internal': 'yes' } })).status).toBe(200);
  });
});
