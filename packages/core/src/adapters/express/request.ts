import { IncomingMessage } from 'node:http';
import type { Application, Request } from 'express';
import { bodyTooLargeError, malformedJsonError } from '../../body/read-body.js';
import { ConfigurationError } from '../../errors/configuration-error.js';
import { isHttpError } from '../../errors/http-error.js';
import { KnownRoutes } from '../../internal/known-routes.js';

/**
 * Names a dependency cannot take: setting them on `req` would throw (express 5's
 * getters, such as `query`) or break express and node (`url`, `res`, `next`). Data
 * that express only sets, such as `body` or `route`, may be replaced.
 */
const RESERVED_NAMES = new Set(
  'accepts acceptsCharsets acceptsEncodings acceptsLanguages app baseUrl fresh get header host hostname ip ips is method next originalUrl path protocol query range res secure socket stale subdomains toolkitContext url xhr'.split(
    ' ',
  ),
);

/** Throws, at `kit.route()` time, for a dependency name that `req` cannot carry. */
export function checkDependencyName(name: string): void {
  if (RESERVED_NAMES.has(name) || name in IncomingMessage.prototype) {
    throw new ConfigurationError(
      `kit.route(): the dependency name "${name}" would replace express's req.${name}; rename it (for example "${name}Value").`,
    );
  }
}

/**
 * The matched route template, prefixed with the mount path of the router or sub-app it
 * sits in (`/api` + `/users/:id`); for a handler mounted with `app.use(path)`, that
 * path. Express keeps only the matched prefix (`req.baseUrl`), not the mount pattern:
 * a router mounted on a path with parameters contributes their values, so mount
 * routers on static paths.
 */
export function routeTemplate(req: Request): string | undefined {
  const route: unknown = req.route;
  if (typeof route !== 'object' || route === null) return req.baseUrl || undefined;
  const raw = (route as { path?: unknown }).path;
  // An array of paths or a RegExp still gives one stable label per route.
  const path = typeof raw === 'string' ? raw : String(raw);
  const base = req.baseUrl;
  if (base === '') return path;
  return path === '/' ? base : base + path;
}

/** Express's params as strings: a wildcard's segments (`/*rest`) are joined with `/`. */
export function routeParams(params: Request['params']): Readonly<Record<string, string>> {
  for (const key in params) {
    if (typeof params[key] !== 'string') {
      const joined: Record<string, string> = {};
      for (const name in params) {
        const value = params[name];
        joined[name] = Array.isArray(value) ? value.join('/') : String(value ?? '');
      }
      return joined;
    }
  }
  return params as Readonly<Record<string, string>>;
}

/**
 * Maps body-parser's errors (`express.json()`, `express.urlencoded()`) onto the
 * problems the toolkit's own reader answers, by their documented `type`; anything
 * else passes on to `normalizeError`, which maps by status and never copies messages.
 */
export function fromBodyParserError(error: unknown): unknown {
  if (typeof error !== 'object' || error === null || isHttpError(error)) return error;
  const { type, limit } = error as { type?: unknown; limit?: unknown };
  if (type === 'entity.parse.failed') return malformedJsonError();
  if (type === 'entity.too.large' && typeof limit === 'number') return bodyTooLargeError(limit);
  return error;
}

/** The routes of each app, read again when its router's stack grew. */
const appRoutes = new WeakMap<Application, KnownRoutes>();

/** The method and path of every route of `app`, from its router's public `stack`. */
export function knownRoutesOf(app: Application): KnownRoutes {
  const { stack } = app.router;
  let routes = appRoutes.get(app);
  if (routes === undefined) appRoutes.set(app, (routes = new KnownRoutes()));
  return routes.sync(stack.length, () =>
    stack.flatMap(({ route }) =>
      route === undefined || typeof route.path !== 'string'
        ? []
        : route.stack
            .filter((layer) => layer.method)
            .map((layer) => ({ method: layer.method.toUpperCase(), path: route.path })),
    ),
  );
}
