import { Router } from '../adapters/node/router.js';

/** A route as a framework reports it: a method and a path template. */
export interface RouteEntry {
  readonly method: string;
  readonly path: string;
}

/**
 * The methods each known path serves, for answering 405 with `Allow` (RFC 9110 15.5.6)
 * on frameworks that answer 404 when only the method is wrong. Templates in `:param`
 * form are understood; a pattern this matcher cannot read (wildcards, regular
 * expressions) is left out, so its paths keep the framework's 404.
 */
export class KnownRoutes {
  #router = new Router<undefined>();
  /** The length of the framework's route list the table was built from. */
  #builtFrom = -1;

  /**
   * Builds the table again from a framework's route list when it changed length (routes
   * are added, never removed, while an app runs), so a 405 sees routes added late.
   */
  sync(length: number, read: () => Iterable<RouteEntry>): this {
    if (length === this.#builtFrom) return this;
    this.#router = new Router<undefined>();
    this.#builtFrom = length;
    for (const { method, path } of read()) this.add(method, path);
    return this;
  }

  /** Records a route; methods such as `ALL` or `*` that match any method are left out. */
  add(method: string, path: string): void {
    if (method === 'ALL' || method === '*' || method === '_all') return;
    try {
      this.#router.add(method, path, undefined);
    } catch {
      // A duplicate or a template outside `:param` syntax: nothing to add.
    }
  }

  /** The methods `path` is served with when `method` is not among them; undefined for an unknown path. */
  allowed(method: string, path: string): readonly string[] | undefined {
    try {
      const match = this.#router.match(method, path);
      return match !== undefined && 'allow' in match ? match.allow : undefined;
    } catch {
      return undefined; // a malformed path cannot name a known route
    }
  }
}
