import { metricData } from './metric-data.js';

/** The route label of requests past the series limit. Templates start with `/`, so it cannot collide. */
export const OVERFLOW_ROUTE = 'other';

/** The labels of one series. */
export interface RequestLabelSet {
  readonly method: string;
  readonly route: string;
  readonly status_code: string;
}

/** One series: a count per finite bucket (not cumulative), the sum and the count. */
class Series {
  readonly labels: RequestLabelSet;
  readonly buckets: Float64Array;
  sum = 0;
  count = 0;

  constructor(labels: RequestLabelSet, bucketCount: number) {
    this.labels = labels;
    this.buckets = new Float64Array(bucketCount);
  }
}

/** A sample as prom-client's registry reads it. */
interface Sample {
  readonly labels: Record<string, string | number>;
  readonly sharedLabels?: RequestLabelSet;
  readonly value: number;
  readonly metricName: string;
}

/**
 * `http_request_duration_seconds{method,route,status_code}`, kept by the package rather
 * than by prom-client's `Histogram`, whose `observe` builds a label-hash string, a label
 * object and a closure on every call (about 1 µs a request). Here a series is found
 * once per label combination through three maps and observing is a bucket search and
 * three additions. At most `maxSeries` combinations are kept; past that, requests count
 * under `route="other"`, so the series stay bounded whatever the app registers.
 *
 * It registers in a prom-client `Registry` like prom-client's own metrics (`get`,
 * `getForPromString`, `reset`) and renders the same exposition lines.
 */
export class DurationHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: readonly number[];
  readonly #maxSeries: number;
  #byRoute = new Map<string, Map<string, Map<number, Series>>>();
  #size = 0;

  constructor(name: string, help: string, bounds: readonly number[], maxSeries: number) {
    this.name = name;
    this.help = help;
    this.#bounds = bounds;
    this.#maxSeries = maxSeries;
  }

  /** Counts one request of `seconds`. */
  observe(method: string, route: string, status: number, seconds: number): void {
    const series =
      this.#byRoute.get(route)?.get(method)?.get(status) ?? this.#add(method, route, status);
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && seconds > (bounds[i] as number)) i++;
    if (i < bounds.length) (series.buckets[i] as number)++;
    series.sum += seconds;
    series.count++;
  }

  #add(method: string, route: string, status: number): Series {
    if (this.#size >= this.#maxSeries && route !== OVERFLOW_ROUTE) {
      return (
        this.#byRoute.get(OVERFLOW_ROUTE)?.get(method)?.get(status) ??
        this.#add(method, OVERFLOW_ROUTE, status)
      );
    }
    const labels = Object.freeze({ method, route, status_code: String(status) });
    const series = new Series(labels, this.#bounds.length);
    let byMethod = this.#byRoute.get(route);
    if (byMethod === undefined) this.#byRoute.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()));
    byStatus.set(status, series);
    if (route !== OVERFLOW_ROUTE) this.#size++;
    return series;
  }

  /** The samples with each series' labels apart (`sharedLabels`), as prom-client's registry renders them. */
  getForPromString(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    values: Sample[];
    aggregator: 'sum';
  }> {
    const values: Sample[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const byMethod of this.#byRoute.values()) {
      for (const byStatus of byMethod.values()) {
        for (const series of byStatus.values()) {
          let cumulative = 0;
          this.#bounds.forEach((le, i) => {
            cumulative += series.buckets[i] as number;
            values.push({
              labels: { le },
              sharedLabels: series.labels,
              value: cumulative,
              metricName: bucketName,
            });
          });
          const shared = series.labels;
          values.push(
            {
              labels: { le: '+Inf' },
              sharedLabels: shared,
              value: series.count,
              metricName: bucketName,
            },
            { labels: {}, sharedLabels: shared, value: series.sum, metricName: `${this.name}_sum` },
            {
              labels: {},
              sharedLabels: shared,
              value: series.count,
              metricName: `${this.name}_count`,
            },
          );
        }
      }
    }
    return metricData(this, values);
  }

  /** The samples with all labels on each (`registry.getMetricsAsJSON()`). */
  async get(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    values: { labels: Record<string, string | number>; value: number; metricName: string }[];
    aggregator: 'sum';
  }> {
    const data = await this.getForPromString();
    return {
      ...data,
      values: data.values.map(({ labels, sharedLabels, value, metricName }) => ({
        labels: { ...sharedLabels, ...labels },
        value,
        metricName,
      })),
    };
  }

  /** Forgets every series (`registry.resetMetrics()`). */
  reset(): void {
    this.#byRoute = new Map();
    this.#size = 0;
  }
}
