/** Distinct warnings one process emits at most; past it, failures are counted by their hooks only. */
const MAX_WARNINGS = 256;

/** The `code` of an error, else its name, for telling failures apart without reading messages. */
function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { code, name } = error as { code?: unknown; name?: unknown };
    if (typeof code === 'string' && code !== '') return code;
    if (typeof name === 'string' && name !== '') return name;
  }
  return typeof error;
}

/**
 * Makes the reporter of failures that no error hook received: each is emitted as a
 * process warning (`process.on('warning')`, stderr by default), once per source and
 * error code, so a failure is never dropped and a plugin failing on every request
 * writes one line, not one per request.
 */
export function createUnhandledWarner(): (error: unknown, source: string) => void {
  const seen = new Set<string>();
  return (error, source) => {
    const code = errorCode(error);
    const key = `${source}\0${code}`;
    if (seen.has(key) || seen.size >= MAX_WARNINGS) return;
    seen.add(key);
    const message = error instanceof Error ? error.message : String(error);
    process.emitWarning(`${source} failed (${code}): ${message}`, {
      type: 'OrgToolkitWarning',
      code: 'ORG_UNHANDLED_FAILURE',
      detail: 'Pass createToolkit({ onError }) or a plugin with onError to receive these failures.',
    });
  };
}
