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
