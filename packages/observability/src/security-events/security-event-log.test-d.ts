import type { SecurityEvent, SecurityEventName } from '@org/core';
import { createLogger, type SecurityEventLog, securityEventLog } from '@org/observability';
import { describe, expectTypeOf, it } from 'vitest';

describe('security event types', () => {
  it('narrows each event by its name', () => {
    const fieldsOf = (event: SecurityEvent): string => {
      switch (event.event) {
        case 'login.succeeded':
        case 'login.failed':
          return event.user_id ?? 'unknown';
        case 'lockout.started':
        case 'lockout.ended':
          return event.key_kind;
        case 'refresh.reuse_detected':
          expectTypeOf(event.family_revoked).toEqualTypeOf<true>();
          return event.family_id;
        case 'token.refused':
          return event.reason;
        case 'keys.rotated':
          // No request behind a rotation.
          expectTypeOf(event).not.toHaveProperty('request_id');
          return event.source;
        case 'api_key.created':
        case 'api_key.revoked':
        case 'api_key.used_after_revocation':
          return event.key_id;
        case 'rate_limit.exceeded':
          return event.policy;
        default:
          return event satisfies never;
      }
    };
    expectTypeOf(fieldsOf).toBeFunction();
    expectTypeOf<SecurityEventName>().toEqualTypeOf<
      | 'login.succeeded'
      | 'login.failed'
      | 'lockout.started'
      | 'lockout.ended'
      | 'refresh.reuse_detected'
      | 'token.refused'
      | 'keys.rotated'
      | 'api_key.created'
      | 'api_key.revoked'
      | 'api_key.used_after_revocation'
      | 'rate_limit.exceeded'
    >();
  });

  it('takes a pino logger and returns something to close', () => {
    expectTypeOf(securityEventLog({ logger: createLogger() })).toEqualTypeOf<SecurityEventLog>();
    // @ts-expect-error a logger is required
    securityEventLog({});
  });
});
