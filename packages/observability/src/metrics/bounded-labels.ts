/**
 * Label values with bounded cardinality, so the number of series stays bounded
 * whatever clients send.
 */

/** HTTP methods kept as label values; any other method is counted as `OTHER`. */
const METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'TRACE',
  'CONNECT',
]);

/** A bounded-cardinality method label. */
export const methodLabel = (method: string): string => (METHODS.has(method) ? method : 'OTHER');

const LABEL_VALUE = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * Label values reported by other packages (auth outcomes, rate-limit policies):
 * at most `limit` distinct values, after which, and for malformed values, `other`.
 */
export class BoundedValues {
  readonly #seen = new Set<string>();
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  label(value: unknown): string {
    if (typeof value !== 'string') return 'other';
    if (this.#seen.has(value)) return value;
    if (this.#seen.size >= this.#limit || !LABEL_VALUE.test(value)) return 'other';
    this.#seen.add(value);
    return value;
  }
}

/** The route label of requests past the series limit. Templates start with `/`, so it cannot collide. */
export const OVERFLOW_ROUTE = 'other';

/**
 * One handle per method x route x status series (prom-client's `histogram.labels(...)`),
 * made on the series' first request, for at most `limit` combinations; later
 * combinations share the handle of their method and status under `route="other"`.
 */
export class RequestSeries<H> {
  readonly #byRoute = new Map<string, Map<string, Map<number, H>>>();
  readonly #limit: number;
  readonly #create: (method: string, route: string, status: string) => H;
  #size = 0;

  constructor(limit: number, create: (method: string, route: string, status: string) => H) {
    this.#limit = limit;
    this.#create = create;
  }

  /** The handle of a request's series. */
  get(method: string, route: string, status: number): H {
    return this.#byRoute.get(route)?.get(method)?.get(status) ?? this.#add(method, route, status);
  }

  #add(method: string, route: string, status: number): H {
    if (this.#size >= this.#limit && route !== OVERFLOW_ROUTE) {
      return this.get(method, OVERFLOW_ROUTE, status);
    }
    const handle = this.#create(method, route, String(status));
    let byMethod = this.#byRoute.get(route);
    if (byMethod === undefined) this.#byRoute.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()));
    byStatus.set(status, handle);
    if (route !== OVERFLOW_ROUTE) this.#size++;
    return handle;
  }
}

/** `create(value)`, made once per value: the caller bounds the values (a {@link BoundedValues} label). */
export function oncePerValue<H>(create: (value: string) => H): (value: string) => H {
  const made = new Map<string, H>();
  return (value) => {
    let handle = made.get(value);
    if (handle === undefined) made.set(value, (handle = create(value)));
    return handle;
  };
}

/** A prom-client counter series: `counter.labels(...)`. */
interface CounterHandle {
  inc(by: number): void;
}

/** One counter series whose increments wait in {@link PendingCounts}. */
export interface PendingCount {
  /** Increments since the last read of the metric. */
  pending: number;
}

/**
 * Counter increments kept as plain numbers between reads and added to prom-client's
 * series by the counter's `collect` (which prom-client runs before every read of the
 * metric: a scrape, `registry.metrics()`, `metric.get()`). An event then costs one
 * addition instead of `inc()`'s label validation and hashing.
 */
export class PendingCounts {
  readonly #series: { readonly count: PendingCount; readonly handle: CounterHandle }[] = [];

  /** A series of its own for `handle` (a prom-client `counter.labels(...)`). */
  track(handle: CounterHandle): PendingCount {
    const count: PendingCount = { pending: 0 };
    this.#series.push({ count, handle });
    return count;
  }

  /** Adds every pending increment to its series: the counter's `collect`. */
  flush(): void {
    for (const { count, handle } of this.#series) {
      if (count.pending === 0) continue;
      handle.inc(count.pending);
      count.pending = 0;
    }
  }
}
