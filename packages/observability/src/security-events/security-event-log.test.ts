import { ConfigurationError, type SecurityEvent, securityEventChannel } from '@org/core';
import { createLogger, SECURITY_EVENT_LEVELS, securityEventLog } from '@org/observability';
import { describe, expect, it } from 'vitest';
import { captureLogs } from '../../test/log-capture.js';

const time = Date.UTC(2030, 0, 1);
const request = { request_id: 'r1', client_ip: '198.51.100.1' };

/** One of each event, as the auth and security packages publish them. */
const EVENTS: readonly SecurityEvent[] = [
  { event: 'login.succeeded', time, ...request, user_id: 'u1' },
  { event: 'login.failed', time, ...request, user_id: undefined, reason: 'unknown_user' },
  { event: 'lockout.started', time, ...request, key_kind: 'account_ip', until: time + 900_000 },
  { event: 'lockout.ended', time, ...request, key_kind: 'account', until: time },
  {
    event: 'refresh.reuse_detected',
    time,
    ...request,
    family_id: 'fam1',
    user_id: 'u1',
    family_revoked: true,
  },
  {
    event: 'token.refused',
    time,
    ...request,
    credential: 'access_token',
    reason: 'ERR_TOKEN_EXPIRED',
    detail: '"exp" is in the past',
  },
  {
    event: 'keys.rotated',
    time,
    source: 'key_set',
    kid: 'k2',
    added_kids: ['k2'],
    retired_kids: ['k1'],
  },
  { event: 'api_key.created', time, ...request, key_id: 'key1', owner: 'u1' },
  { event: 'api_key.revoked', time, ...request, key_id: 'key1', owner: 'u1' },
  { event: 'api_key.used_after_revocation', time, ...request, key_id: 'key1', owner: 'u1' },
  { event: 'rate_limit.exceeded', time, ...request, policy: 'search', key_kind: 'ip' },
];

const WARN = 40;
const INFO = 30;

describe('securityEventLog', () => {
  it('writes each event once as a line with its fields, at warn or info', () => {
    const capture = captureLogs();
    const logger = createLogger({ destination: capture.stream, base: {} });
    const log = securityEventLog({ logger });
    try {
      for (const event of EVENTS) securityEventChannel.publish(event);
    } finally {
      log.close();
    }
    expect(capture.lines).toHaveLength(EVENTS.length);
    EVENTS.forEach((published, i) => {
      const { time: eventTime, ...fields } = published;
      const line = capture.lines[i];
      expect(line).toMatchObject({
        ...JSON.parse(JSON.stringify(fields)),
        event_time: eventTime,
        msg: 'security event',
      });
      expect(line?.level).toBe(SECURITY_EVENT_LEVELS[published.event] === 'warn' ? WARN : INFO);
    });
    const levels = Object.fromEntries(capture.lines.map((line) => [line.event, line.level]));
    expect(levels).toEqual({
      'login.succeeded': INFO,
      'login.failed': WARN,
      'lockout.started': WARN,
      'lockout.ended': INFO,
      'refresh.reuse_detected': WARN,
      'token.refused': WARN,
      'keys.rotated': INFO,
      'api_key.created': INFO,
      'api_key.revoked': INFO,
      'api_key.used_after_revocation': WARN,
      'rate_limit.exceeded': WARN,
    });
  });

  it('stops writing when closed, and leaves the channel without subscribers', () => {
    const capture = captureLogs();
    const log = securityEventLog({ logger: createLogger({ destination: capture.stream }) });
    expect(securityEventChannel.hasSubscribers).toBe(true);
    log.close();
    log.close();
    expect(securityEventChannel.hasSubscribers).toBe(false);
    securityEventChannel.publish(EVENTS[0]);
    expect(capture.lines).toEqual([]);
  });

  it('keeps a failing logger from crashing the publisher', () => {
    const log = securityEventLog({
      logger: {
        info: () => {
          throw new Error('disk full');
        },
        warn: () => {},
      },
    });
    try {
      expect(() => securityEventChannel.publish(EVENTS[0])).not.toThrow();
    } finally {
      log.close();
    }
  });

  it('needs a logger with info and warn', () => {
    expect(() => securityEventLog({} as never)).toThrow(ConfigurationError);
    expect(() => securityEventLog({ logger: { info: () => {} } as never })).toThrow(
      /securityEventLog: logger must be a logger with a warn\(\) method/,
    );
  });
});
