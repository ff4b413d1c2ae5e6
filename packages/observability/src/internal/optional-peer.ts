import { createRequire } from 'node:module';

/**
 * Optional peers (pino-pretty, @opentelemetry/api) are loaded with `require` on first
 * use, never imported at the top: an app that does not install them must still load
 * this package. Resolved from this file, so pnpm's strict layout finds them when the
 * app lists them.
 */
const requireHere = createRequire(import.meta.url);
const cache = new Map<string, unknown>();

/** The module, or undefined when it is not installed. Looked up once per name. */
export function loadOptionalPeer<T>(name: string): T | undefined {
  if (cache.has(name)) return cache.get(name) as T | undefined;
  let loaded: T | undefined;
  try {
    loaded = requireHere(name) as T;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') throw error;
    loaded = undefined;
  }
  cache.set(name, loaded);
  return loaded;
}
