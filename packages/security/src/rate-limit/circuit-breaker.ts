/**
 * A circuit breaker in front of a remote store: after `threshold` failures in a row
 * it opens, and calls fail at once for `cooldownMs` instead of each waiting out a
 * timeout against a dead server. Then one probe is let through (half-open); its
 * success closes the circuit, its failure opens it again. Time comes from the
 * caller's clock, so tests drive it without sleeping.
 */
export class CircuitBreaker {
  readonly #threshold: number;
  readonly #cooldownMs: number;
  #failures = 0;
  #openUntil = 0;
  #probing = false;

  constructor(threshold: number, cooldownMs: number) {
    this.#threshold = threshold;
    this.#cooldownMs = cooldownMs;
  }

  /** `closed` (calls go through), `open` (calls fail fast) or `half-open` (one probe in flight or due). */
  state(now: number): 'closed' | 'open' | 'half-open' {
    if (this.#failures < this.#threshold) return 'closed';
    return now < this.#openUntil && !this.#probing ? 'open' : 'half-open';
  }

  /** Whether a call may go to the store now; in half-open state, true for one probe only. */
  allow(now: number): boolean {
    if (this.#failures < this.#threshold) return true;
    if (now < this.#openUntil || this.#probing) return false;
    this.#probing = true;
    return true;
  }

  /** Milliseconds until the next probe may run (0 when closed or due). */
  retryInMs(now: number): number {
    return this.#failures < this.#threshold ? 0 : Math.max(0, this.#openUntil - now);
  }

  /** Records a call that succeeded: the circuit closes. */
  success(): void {
    this.#failures = 0;
    this.#probing = false;
  }

  /** Records a call that failed at `now`. */
  failure(now: number): void {
    this.#failures++;
    this.#probing = false;
    if (this.#failures >= this.#threshold) this.#openUntil = now + this.#cooldownMs;
  }
}
