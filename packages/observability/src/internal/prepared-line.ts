/**
 * Marks a log object the package built itself (the access line): it already carries
 * the request and trace ids, and holds only fields that are never secret (method,
 * route template, status, sizes, ids). A logger from `createLogger` writes it as
 * given: no mixin merge, no redaction walk. Symbol keys are never written by pino.
 */
export const PREPARED_LINE: unique symbol = Symbol('org.observability.preparedLine');

/** Whether `object` was marked with {@link PREPARED_LINE}. */
export function isPreparedLine(object: object): boolean {
  return (object as { [PREPARED_LINE]?: true })[PREPARED_LINE] === true;
}
