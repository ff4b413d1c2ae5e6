import { Histogram, type Metric, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DurationHistogram } from './duration-histogram.js';

const NAME = 'http_request_duration_seconds';
const HELP = 'Duration of HTTP requests in seconds.';
const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const OBSERVATIONS: [method: string, route: string, status: number, seconds: number][] = [
  ['GET', '/users/:id', 200, 0.003],
  ['GET', '/users/:id', 200, 0.005], // exactly on a bound: counted in it, as prom-client does
  ['GET', '/users/:id', 200, 0.7],
  ['GET', '/users/:id', 404, 12], // past the last bound: only +Inf, sum and count
  ['POST', '/users', 201, 0.02],
  ['GET', 'unmatched', 404, 0.001],
];

function ours(maxSeries = 2000) {
  const registry = new Registry();
  const histogram = new DurationHistogram(NAME, HELP, BOUNDS, maxSeries);
  registry.registerMetric(histogram as unknown as Metric);
  return { registry, histogram };
}

describe('DurationHistogram', () => {
  it("renders exactly what prom-client's Histogram renders for the same requests", async () => {
    const reference = new Registry();
    const theirs = new Histogram({
      name: NAME,
      help: HELP,
      labelNames: ['method', 'route', 'status_code'],
      buckets: BOUNDS,
      registers: [reference],
    });
    const { registry, histogram } = ours();
    for (const [method, route, status, seconds] of OBSERVATIONS) {
      theirs.observe({ method, route, status_code: String(status) }, seconds);
      histogram.observe(method, route, status, seconds);
    }
    expect(await registry.metrics()).toBe(await reference.metrics());
    // JSON too, but for prom-client's `exemplar: null` (exemplars are off).
    const withoutExemplars = async (r: Registry) =>
      (await r.getMetricsAsJSON()).map((m) => ({
        ...m,
        values: m.values.map((value) => {
          const { exemplar: _, ...rest } = value as typeof value & { exemplar?: unknown };
          return rest;
        }),
      }));
    expect(await withoutExemplars(registry)).toEqual(await withoutExemplars(reference));
  });

  it('keeps at most maxSeries combinations and counts the rest under route="other"', async () => {
    const { registry, histogram } = ours(2);
    histogram.observe('GET', '/a', 200, 0.01);
    histogram.observe('GET', '/b', 200, 0.01);
    for (let i = 0; i < 50; i++) histogram.observe('GET', `/route-${i}`, 200, 0.01);
    histogram.observe('GET', '/a', 200, 0.01); // a kept series still counts
    const counts = (await registry.getMetricsAsJSON())[0]?.values.filter(
      (v) => (v as { metricName?: string }).metricName === `${NAME}_count`,
    );
    expect(counts?.map((v) => [v.labels.route, v.value])).toEqual([
      ['/a', 2],
      ['/b', 1],
      ['other', 50],
    ]);
  });

  it('forgets every series on registry.resetMetrics()', async () => {
    const { registry, histogram } = ours();
    histogram.observe('GET', '/a', 200, 0.01);
    registry.resetMetrics();
    expect((await registry.getMetricsAsJSON())[0]?.values).toEqual([]);
    histogram.observe('GET', '/a', 200, 0.01);
    expect(await registry.metrics()).toContain(
      `${NAME}_count{method="GET",route="/a",status_code="200"} 1`,
    );
  });
});
