import { TestingError } from '../errors/testing-error.js';
import type { SecurityConformanceOptions } from './types.js';

function fail(message: string): never {
  throw new TestingError('ERR_CONFORMANCE_OPTIONS', `securityConformance: ${message}`);
}

function checkPath(name: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'string' || !value.startsWith('/'))) {
    fail(`routes.${name} must be a path starting with "/"; received ${JSON.stringify(value)}.`);
  }
}

/**
 * Checks the options once, when the suite is built, so a typo fails at collection
 * with the option's name rather than as dozens of confusing test failures.
 */
export function checkOptions(options: SecurityConformanceOptions): void {
  if ((options.app === undefined) === (options.baseUrl === undefined)) {
    fail('pass exactly one of `app` (the app object) or `baseUrl` (a running service).');
  }
  if (typeof options.routes?.protected !== 'string') {
    fail(
      'routes.protected is required: a GET route any signed-in user may call, e.g. "/api/v1/users/me".',
    );
  }
  for (const [name, value] of Object.entries(options.routes)) checkPath(name, value);
  const limit = options.rateLimit?.limit;
  if (limit !== undefined && (!Number.isInteger(limit) || limit <= 0 || limit > 10_000)) {
    fail(
      `rateLimit.limit must be an integer from 1 to 10000 (the suite sends limit + 1 requests); received ${String(limit)}.`,
    );
  }
  const origin = options.cors?.allowedOrigin;
  if (origin !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || parsed.origin !== origin) {
      fail(
        `cors.allowedOrigin must be an origin such as "https://app.example.com" (no path, no trailing slash); received ${JSON.stringify(origin)}.`,
      );
    }
  }
  const apiKeys = options.apiKeys;
  if (apiKeys !== undefined) {
    for (const name of ['create', 'revoke', 'list'] as const) {
      const value = apiKeys[name];
      if (value !== undefined && (typeof value !== 'string' || !value.startsWith('/'))) {
        fail(
          `apiKeys.${name} must be a path starting with "/"; received ${JSON.stringify(value)}.`,
        );
      }
    }
    if (typeof apiKeys.create !== 'string')
      fail('apiKeys.create is required: the POST route that creates a key.');
    if (typeof apiKeys.revoke !== 'string' || !apiKeys.revoke.includes(':id')) {
      fail(
        `apiKeys.revoke must be the DELETE route with ":id" for the key's id, e.g. "/api/v1/api-keys/:id"; received ${JSON.stringify(apiKeys.revoke)}.`,
      );
    }
    if (apiKeys.logs !== undefined && typeof apiKeys.logs !== 'function') {
      fail('apiKeys.logs must be a function returning the log so far.');
    }
  }
  if (options.credentials !== undefined && options.routes.login === undefined) {
    fail('credentials are given but routes.login is not: the suite signs in through routes.login.');
  }
}
