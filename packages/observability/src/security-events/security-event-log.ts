import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  ConfigurationError,
  type SecurityEvent,
  type SecurityEventName,
  securityEventChannel,
} from '@org/core';
import { optionalLogger, type StructuredLogger } from '../internal/options.js';

/** Options of {@link securityEventLog}. */
export interface SecurityEventLogOptions {
  /** Where lines go: the logger from {@link createLogger} (any pino logger works). */
  logger: Pick<StructuredLogger, 'info' | 'warn'>;
  /** The `msg` of each line. @default 'security event' */
  message?: string;
}

/** A running {@link securityEventLog}. */
export interface SecurityEventLog {
  /** Stops writing: unsubscribes from the channel. Safe to call twice. */
  close(): void;
}

/** Level of each event: `warn` for what a person may have to look into, `info` for the rest. */
export const SECURITY_EVENT_LEVELS: Readonly<Record<SecurityEventName, 'info' | 'warn'>> =
  Object.freeze({
    'login.succeeded': 'info',
    'login.failed': 'warn',
    'lockout.started': 'warn',
    'lockout.ended': 'info',
    'refresh.reuse_detected': 'warn',
    'token.refused': 'warn',
    'keys.rotated': 'info',
    'api_key.created': 'info',
    'api_key.revoked': 'info',
    'api_key.used_after_revocation': 'warn',
    'rate_limit.exceeded': 'warn',
  });

/**
 * Writes every security event of the `org:security` channel (`securityEventChannel`
 * of `@org/core`: logins, lockouts, refresh-token reuse, refused tokens, key rotations,
 * API keys, rate limits) as one structured line with an `event` field and the event's
 * fields; the event's own `time` becomes `event_time`, the line keeps the logger's `time`.
 * Levels are in {@link SECURITY_EVENT_LEVELS}. Events carry no secret and no login
 * name; the logger's redaction still applies.
 *
 * @example
 * ```ts
 * const logger = createLogger();
 * const securityLog = securityEventLog({ logger });
 * // {"level":40,"event":"refresh.reuse_detected","family_id":"...","user_id":"u1","request_id":"...",...}
 * onShutdown(() => securityLog.close());
 * ```
 * @throws A {@link ConfigurationError} when `logger` is missing or lacks `info`/`warn`.
 */
export function securityEventLog(options: SecurityEventLogOptions): SecurityEventLog {
  const logger = optionalLogger('securityEventLog', 'logger', options?.logger, ['info', 'warn']);
  if (logger === undefined) {
    throw new ConfigurationError(
      'securityEventLog: logger is required; pass the logger from createLogger().',
    );
  }
  const message = options.message ?? 'security event';
  const write = (payload: unknown): void => {
    const { time, ...fields } = payload as SecurityEvent;
    const line = { ...fields, event_time: time };
    // diagnostics_channel rethrows a subscriber's error on the next tick, which would
    // crash the process that published the event: a failing logger loses the line instead.
    try {
      if (SECURITY_EVENT_LEVELS[fields.event] === 'warn') logger.warn(line, message);
      else logger.info(line, message);
    } catch {}
  };
  subscribe(securityEventChannel.name, write);
  let open = true;
  return Object.freeze({
    close(): void {
      if (!open) return;
      open = false;
      unsubscribe(securityEventChannel.name, write);
    },
  });
}
