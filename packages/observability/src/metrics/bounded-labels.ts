/**
 * Label objects made once and reused, so observing a request allocates nothing and
 * the number of series stays bounded whatever clients send.
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

/** The `{ method, route, status_code }` objects of the duration histogram, cached per combination. */
export class RequestLabels {
  readonly #byRoute = new Map<string, Map<string, Map<number, RequestLabelSet>>>();
  readonly #limit: number;
  #size = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get(method: string, route: string, status: number): RequestLabelSet {
    let byMethod = this.#byRoute.get(route);
    let byStatus = byMethod?.get(method);
    const cached = byStatus?.get(status);
    if (cached !== undefined) return cached;
    const labels: RequestLabelSet = Object.freeze({
      method,
      route,
      status_code: String(status),
    });
    if (this.#size >= this.#limit) return labels;
    if (byMethod === undefined) this.#byRoute.set(route, (byMethod = new Map()));
    if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()));
    byStatus.set(status, labels);
    this.#size++;
    return labels;
  }
}

/** One label set of the duration histogram. */
export interface RequestLabelSet {
  readonly method: string;
  readonly route: string;
  readonly status_code: string;
}

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
