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

/**
 * Writes one prepared line at a pino level number (30 info, 50 error), given its
 * fields as JSON members without braces (`"status":200,"bytes":50`), exactly as pino
 * would write the same object: level, time and bindings first, `msg` last.
 */
export type PreparedLineWriter = (level: number, fields: string) => void;

/**
 * On a root logger from `createLogger`, the factory of its {@link PreparedLineWriter}s
 * for a fixed message (undefined when its destination needs pino's own path). Absent
 * on other loggers, and not own on children, whose options may add serializers or
 * formatters: those take pino's path.
 */
export const PREPARED_LINE_WRITER: unique symbol = Symbol('org.observability.preparedLineWriter');

/** The {@link PreparedLineWriter} factory of `logger`, when it is a root logger from `createLogger`. */
export function preparedLineWriter(
  logger: object,
  message: string,
): PreparedLineWriter | undefined {
  if (!Object.hasOwn(logger, PREPARED_LINE_WRITER)) return undefined;
  const factory = (
    logger as { [PREPARED_LINE_WRITER]: (message: string) => PreparedLineWriter | undefined }
  )[PREPARED_LINE_WRITER];
  return factory(message);
}
