import { ConfigurationError, createToolkit } from '@org/core';
import { adapters, deferred, type RunningApp } from '@org/test-support';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { captureLogs } from '../../test/log-capture.js';
import { createLogger } from '../logging/create-logger.js';
import { createHealthChecks, HEALTH_CONTENT_TYPE } from './health-checks.js';

const never = () => new Promise<never>(() => {});
const LEAK = 'connect ECONNREFUSED 10.0.0.5:6379';

describe('createHealthChecks options', () => {
  it('rejects bad options at construction, naming the option', () => {
    expect(() => createHealthChecks({ timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => createHealthChecks({ cacheMs: -1 })).toThrow(/cacheMs/);
    expect(() => createHealthChecks({ checks: { 'a:b': () => {} } })).toThrow(ConfigurationError);
    expect(() => createHealthChecks({ checks: { db: 'nope' as never } })).toThrow(/checks\.db/);
    expect(() =>
      createHealthChecks({ checks: { db: { check: () => {}, timeoutMs: 1.5 } } }),
    ).toThrow(/checks\.db\.timeoutMs/);
  });
});

describe('createHealthChecks', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('answers liveness 200 without running any check', () => {
    const check = vi.fn();
    const health = createHealthChecks({ checks: { db: check } });
    const reply = health.liveness();
    expect(reply).toMatchObject({ status: 200, headers: { 'content-type': HEALTH_CONTENT_TYPE } });
    expect(reply.body).toEqual({ status: 'pass' });
    expect(check).not.toHaveBeenCalled();
  });

  it('passes with per-check status in draft-inadarei-api-health-check form', async () => {
    vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
    const health = createHealthChecks({ checks: { db: () => {}, cache: async () => 'warn' } });
    const reply = await health.readiness();
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      status: 'warn',
      checks: {
        'db:responseTime': [
          {
            status: 'pass',
            observedValue: 0,
            observedUnit: 'ms',
            time: '2030-01-01T00:00:00.000Z',
          },
        ],
        'cache:responseTime': [
          {
            status: 'warn',
            observedValue: 0,
            observedUnit: 'ms',
            time: '2030-01-01T00:00:00.000Z',
          },
        ],
      },
    });
  });

  it('fails a hanging check at its timeout with 503, and aborts its signal', async () => {
    let signal: AbortSignal | undefined;
    const health = createHealthChecks({
      timeoutMs: 1000,
      checks: {
        db: () => {},
        redis: (s) => {
          signal = s;
          return never();
        },
      },
    });
    let settled = false;
    const pending = health.readiness().then((reply) => {
      settled = true;
      return reply;
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const reply = await pending;
    expect(reply.status).toBe(503);
    expect(reply.body).toMatchObject({
      status: 'fail',
      checks: {
        'redis:responseTime': [{ status: 'fail', observedValue: 1000 }],
        'db:responseTime': [{ status: 'pass' }],
      },
    });
    expect(signal?.aborted).toBe(true);
  });

  it('runs a check once for 20 concurrent probes and reuses the result for cacheMs', async () => {
    let calls = 0;
    const gate = deferred();
    const health = createHealthChecks({
      cacheMs: 1000,
      checks: {
        db: async () => {
          calls++;
          await gate.promise;
        },
      },
    });
    const probes = Array.from({ length: 20 }, () => health.readiness());
    gate.resolve();
    const replies = await Promise.all(probes);
    expect(replies.every((r) => r.status === 200)).toBe(true);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(999);
    await health.readiness();
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await health.readiness();
    expect(calls).toBe(2);
  });

  it('never puts error text, hosts or ports in the body; logs them instead', async () => {
    const logs = captureLogs();
    const health = createHealthChecks({
      logger: createLogger({ destination: logs.stream }),
      checks: {
        redis: async () => {
          throw new Error(LEAK);
        },
        db: () => {
          throw Object.assign(new Error('SQLITE_CANTOPEN /var/lib/app/db.sqlite'), {
            host: 'db.internal',
          });
        },
      },
    });
    const reply = await health.readiness();
    expect(reply.status).toBe(503);
    const body = JSON.stringify(reply.body);
    for (const leak of ['ECONNREFUSED', '10.0.0.5', '6379', 'SQLITE', '/var/lib', 'db.internal']) {
      expect(body).not.toContain(leak);
    }
    const line = await logs.waitFor((l) => l.check === 'redis');
    expect(line).toMatchObject({ level: 40, msg: 'health check failed' });
    expect(JSON.stringify(line)).toContain(LEAK);
  });

  it('turns a failing non-critical check into warn (200)', async () => {
    const health = createHealthChecks({
      checks: {
        search: {
          critical: false,
          check: () => {
            throw new Error('down');
          },
        },
      },
    });
    const reply = await health.readiness();
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      status: 'warn',
      checks: { 'search:responseTime': [{ status: 'fail' }] },
    });
  });

  it('answers 503 at once when draining, without running checks, while liveness stays 200', async () => {
    const check = vi.fn();
    const health = createHealthChecks({ checks: { db: check } });
    health.startDraining();
    expect(health.draining).toBe(true);
    const reply = await health.readiness();
    expect(reply.status).toBe(503);
    expect(reply.body).toMatchObject({ status: 'fail' });
    expect(check).not.toHaveBeenCalled();
    expect(health.liveness().status).toBe(200);
  });
});

describe.each(adapters)('health endpoints on $name', (fixture) => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('serves liveness and readiness as application/health+json; a hanging check is 503 within its timeout', async () => {
    let calls = 0;
    const health = createHealthChecks({
      timeoutMs: 50,
      checks: {
        redis: () => {
          calls++;
          return never();
        },
      },
    });
    app = await fixture.start(createToolkit(), [
      { method: 'GET', path: '/healthz', handler: health.liveness },
      { method: 'GET', path: '/readyz', handler: health.readiness },
    ]);
    const live = await fetch(`${app.url}/healthz`);
    expect(live.status).toBe(200);
    expect(live.headers.get('content-type')).toContain(HEALTH_CONTENT_TYPE);
    expect(live.headers.get('cache-control')).toBe('no-store');
    expect(await live.json()).toEqual({ status: 'pass' });

    const started = performance.now();
    const probes = await Promise.all(Array.from({ length: 20 }, () => fetch(`${app?.url}/readyz`)));
    expect(performance.now() - started).toBeLessThan(1000);
    for (const probe of probes) {
      expect(probe.status).toBe(503);
      expect(probe.headers.get('content-type')).toContain(HEALTH_CONTENT_TYPE);
      expect(await probe.json()).toMatchObject({ status: 'fail' });
    }
    expect(calls).toBe(1);
  });
});
