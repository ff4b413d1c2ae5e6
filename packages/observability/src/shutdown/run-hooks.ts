import type { StructuredLogger } from '../internal/options.js';

/** Cleanup after the server closed: close the database, `quit()` Redis, flush the logger. */
export type ShutdownHook = () => unknown;

const TIMEOUT = Symbol('timeout');

/**
 * Runs hooks newest first, one at a time, each bounded by `timeoutMs`. A failing or
 * hanging hook is logged and skipped, so the others still run. Resolves whether all
 * of them succeeded.
 */
export async function runHooks(
  hooks: readonly ShutdownHook[],
  timeoutMs: number,
  logger: Pick<StructuredLogger, 'error'> | undefined,
): Promise<boolean> {
  let ok = true;
  for (let i = hooks.length - 1; i >= 0; i--) {
    const hook = hooks[i] as ShutdownHook;
    const name = hook.name || `hooks[${i}]`;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<typeof TIMEOUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMEOUT), timeoutMs);
    });
    try {
      const outcome = await Promise.race([Promise.resolve().then(hook), timedOut]);
      if (outcome === TIMEOUT) {
        ok = false;
        logger?.error({ hook: name, timeout_ms: timeoutMs }, 'shutdown hook timed out');
      }
    } catch (error) {
      ok = false;
      logger?.error({ hook: name, err: error }, 'shutdown hook failed');
    } finally {
      clearTimeout(timer);
    }
  }
  return ok;
}
