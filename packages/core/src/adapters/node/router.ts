import { badPathError } from '../../internal/path-encoding.js';

type Segment = string | { readonly param: string };

interface CompiledRoute<H> {
  readonly method: string;
  readonly template: string;
  readonly segments: readonly Segment[];
  readonly handler: H;
}

/** A successful route match. */
export interface RouteMatch<H> {
  readonly template: string;
  readonly params: Readonly<Record<string, string>>;
  readonly handler: H;
}

/** The outcome of {@link Router.match}: a match, the methods the path allows (405), or nothing (404). */
export type MatchResult<H> = RouteMatch<H> | { readonly allow: readonly string[] } | undefined;

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function decodeParam(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch (error) {
    throw badPathError(error);
  }
}

/**
 * A small method + template router (`/users/:id`). Static routes are one map
 * lookup; templates are compiled once. Paths are matched exactly: case-sensitive,
 * no trailing-slash or double-slash folding.
 */
export class Router<H> {
  /** Static routes by path, then method, each with its match made once. */
  readonly #static = new Map<string, Map<string, RouteMatch<H>>>();
  readonly #dynamic: CompiledRoute<H>[] = [];
  readonly #all: CompiledRoute<H>[] = [];

  /** Adds a route. Throws at start-up on a malformed template or a duplicate. */
  add(method: string, template: string, handler: H): void {
    if (!template.startsWith('/')) throw new TypeError(`Route "${template}" must start with "/".`);
    const upper = method.toUpperCase();
    const segments: Segment[] = template
      .split('/')
      .slice(1)
      .map((part) => {
        if (!part.startsWith(':')) return part;
        const param = part.slice(1);
        if (!PARAM_NAME.test(param))
          throw new TypeError(`Route "${template}" has an invalid parameter "${part}".`);
        return { param };
      });
    if (this.#all.some((r) => r.method === upper && r.template === template)) {
      throw new TypeError(`Route ${upper} ${template} is registered twice.`);
    }
    const route: CompiledRoute<H> = { method: upper, template, segments, handler };
    this.#all.push(route);
    if (segments.every((s) => typeof s === 'string')) {
      let byMethod = this.#static.get(template);
      if (byMethod === undefined) this.#static.set(template, (byMethod = new Map()));
      byMethod.set(upper, Object.freeze({ template, params: NO_PARAMS, handler }));
    } else this.#dynamic.push(route);
  }

  /** Finds the route for a method and path. `HEAD` falls back to `GET`. */
  match(method: string, path: string): MatchResult<H> {
    const found =
      this.#find(method, path) ?? (method === 'HEAD' ? this.#find('GET', path) : undefined);
    if (found !== undefined) return found;
    const allow = new Set<string>();
    for (const route of this.#all)
      if (this.#matches(route, path) !== undefined) allow.add(route.method);
    if (allow.size === 0) return undefined;
    if (allow.has('GET')) allow.add('HEAD');
    return { allow: [...allow] };
  }

  #find(method: string, path: string): RouteMatch<H> | undefined {
    const exact = this.#static.get(path)?.get(method);
    if (exact !== undefined) return exact;
    for (const route of this.#dynamic) {
      if (route.method !== method) continue;
      const params = this.#matches(route, path);
      if (params !== undefined) return { template: route.template, params, handler: route.handler };
    }
    return undefined;
  }

  #matches(route: CompiledRoute<H>, path: string): Record<string, string> | undefined {
    const parts = path.split('/');
    if (parts.length - 1 !== route.segments.length) return undefined;
    let params: Record<string, string> | undefined;
    for (let i = 0; i < route.segments.length; i++) {
      const segment = route.segments[i] as Segment;
      const part = parts[i + 1] as string;
      if (typeof segment === 'string') {
        if (segment !== part) return undefined;
      } else {
        if (part === '') return undefined;
        (params ??= {})[segment.param] = decodeParam(part);
      }
    }
    return params ?? {};
  }
}
