import { ConfigurationError, createToolkit, defineDependency } from '@org/core';
import { adapters, type RunningApp } from '@org/test-support';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHealthChecks } from '../health/health-checks.js';
import { type LoadShedder, loadShedding } from './load-shedding.js';

/** Keeps the event loop busy for `ms`, as a CPU-bound handler would. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spinning
  }
}

const turn = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let shedder: LoadShedder | undefined;
afterEach(() => {
  shedder?.close();
  shedder = undefined;
});

describe('loadShedding measures', () => {
  it('samples off the request path and sheds while the event loop is delayed', async () => {
    shedder = loadShedding({ maxEventLoopDelayMs: 200, maxHeapUsedRatio: false });
    expect(shedder.overloaded).toBeUndefined();
    shedder.sample(); // starts a fresh interval
    await turn(20);
    block(400);
    await turn(30); // the delay is recorded once the loop turns again
    expect(shedder.sample()).toBe('event_loop_delay');
    expect(() => shedder?.check(new AbortController().signal)).toThrow(/event_loop_delay/);
    await turn(30);
    // The next interval saw no delay: requests flow again.
    expect(shedder.sample()).toBeUndefined();
  });

  it('sheds on the heap and RSS thresholds, and on event-loop utilization', () => {
    shedder = loadShedding({ maxHeapUsedRatio: 1e-9 });
    expect(shedder.sample()).toBe('heap');
    shedder.close();
    shedder = loadShedding({ maxHeapUsedRatio: false, maxRssBytes: 1 });
    expect(shedder.sample()).toBe('rss');
    shedder.close();
    shedder = loadShedding({ maxEventLoopUtilization: 1e-9, maxEventLoopDelayMs: false });
    block(60);
    expect(shedder.sample()).toBe('event_loop_utilization');
  });

  it('samples on a timer every sampleIntervalMs', () => {
    vi.useFakeTimers();
    try {
      shedder = loadShedding({
        maxRssBytes: 1,
        sampleIntervalMs: 250,
      });
      expect(shedder.overloaded).toBeUndefined();
      vi.advanceTimersByTime(250);
      expect(shedder.overloaded).toBe('rss');
      shedder.close();
      expect(shedder.overloaded).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });

  it('rejects bad options at construction, naming the option', () => {
    expect(() => loadShedding({ maxEventLoopDelayMs: 0 })).toThrow(/maxEventLoopDelayMs/);
    expect(() => loadShedding({ maxEventLoopUtilization: 1.5 })).toThrow(/maxEventLoopUtilization/);
    expect(() => loadShedding({ maxHeapUsedRatio: -1 })).toThrow(/maxHeapUsedRatio/);
    expect(() => loadShedding({ maxRssBytes: Number.NaN })).toThrow(/maxRssBytes/);
    expect(() => loadShedding({ sampleIntervalMs: 0 })).toThrow(/sampleIntervalMs/);
    expect(() => loadShedding({ retryAfterSeconds: 1.5 })).toThrow(/retryAfterSeconds/);
    expect(() => loadShedding({ skip: ['healthz'] })).toThrow(/skip/);
    expect(() => loadShedding({ registry: {} as Registry })).toThrow(ConfigurationError);
    const registry = new Registry();
    loadShedding({ registry }).close();
    expect(() => loadShedding({ registry })).toThrow(/prefix or registry/);
  });
});

describe.each(adapters)('loadShedding on $name', (fixture) => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('answers 503 with Retry-After before any dependency runs, serves the probes, counts what it shed', async () => {
    const registry = new Registry();
    shedder = loadShedding({ maxRssBytes: 1, registry, retryAfterSeconds: 7 });
    const health = createHealthChecks({ checks: { load: shedder.check } });
    const resolved = vi.fn(() => 'value');
    const dependency = defineDependency({ name: 'work', resolve: resolved });
    app = await fixture.start(createToolkit({ plugins: [shedder.plugin] }), [
      {
        method: 'POST',
        path: '/work',
        dependencies: { dependency },
        handler: () => ({ body: { ok: true } }),
      },
      { method: 'GET', path: '/healthz', handler: health.liveness },
      { method: 'GET', path: '/readyz', handler: health.readiness },
    ]);
    expect((await fetch(`${app.url}/work`, { method: 'POST' })).status).toBe(200);

    shedder.sample();
    const refused = await fetch(`${app.url}/work`, { method: 'POST', body: '{"large":true}' });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.headers.get('retry-after')).toBe('7');
    expect(await refused.json()).toMatchObject({
      status: 503,
      code: 'ERR_OVERLOADED',
      detail: 'The server is overloaded; retry later.',
    });
    expect(resolved).toHaveBeenCalledTimes(1); // only for the request before the overload

    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${app.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'fail' });
    const counted = await registry.getSingleMetricAsString('http_requests_shed_total');
    expect(counted, counted).toContain('http_requests_shed_total{reason="rss"} 1');
  });
});
