import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  createToolkit,
  type Plugin,
  requestIdKey,
  type SecurityEvent,
  securityEventChannel,
  UnauthorizedError,
} from '@org/core';
import { clientIp, createLoginGuard, rateLimit } from '@org/security';
import { adapters, type RunningApp } from '@org/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/internal/fake-context.js';

const PASSWORD = 'correct horse battery staple';
const EMAIL = 'ann@example.com';
const WINDOW = 60_000;

const requestIds: Plugin = {
  name: 'request-ids',
  onRequest: (ctx) => {
    const id = ctx.request.header('x-request-id');
    if (id !== undefined) ctx.set(requestIdKey, id);
  },
};

const events: SecurityEvent[] = [];
const collect = (message: unknown) => events.push(message as SecurityEvent);
beforeAll(() => subscribe(securityEventChannel.name, collect));
afterAll(() => unsubscribe(securityEventChannel.name, collect));

describe.each(adapters)('security events of @org/security on $name', (fixture) => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    events.length = 0;
  });

  async function start(clock: ManualClock) {
    const guard = createLoginGuard({
      clock,
      maxFailuresPerIp: 3,
      maxFailuresPerAccount: 5,
      windowMs: WINDOW,
    });
    const toolkit = createToolkit({ plugins: [clientIp({ trustProxy: 1 }), requestIds] });
    app = await fixture.start(toolkit, [
      {
        method: 'POST',
        path: '/login',
        handler: async (ctx) => {
          const body = (await ctx.request.body()) as { email: string; password: string };
          await guard.check(ctx, body.email);
          if (body.password !== PASSWORD) {
            await guard.recordFailure(ctx, body.email);
            throw new UnauthorizedError({ detail: 'Invalid email or password.' });
          }
          await guard.recordSuccess(ctx, body.email);
          return { body: { ok: true } };
        },
      },
      {
        method: 'GET',
        path: '/search',
        dependencies: { limit: rateLimit({ clock, name: 'search', limit: 1, windowMs: WINDOW }) },
        handler: () => ({ body: { ok: true } }),
      },
    ]);
    const url = app.url;
    return {
      login: (requestId: string, password: string, ip: string) =>
        fetch(`${url}/login`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-forwarded-for': ip,
            'x-request-id': requestId,
          },
          body: JSON.stringify({ email: EMAIL, password }),
        }),
      search: (requestId: string, ip: string) =>
        fetch(`${url}/search`, { headers: { 'x-forwarded-for': ip, 'x-request-id': requestId } }),
    };
  }

  it('publishes lockout.started, login.failed (locked_out) and lockout.ended once each', async () => {
    const clock = new ManualClock();
    const start0 = clock.now();
    const { login } = await start(clock);
    const A = '198.51.100.1';
    const B = '203.0.113.9';
    for (const id of ['a1', 'a2', 'a3']) expect((await login(id, 'guess', A)).status).toBe(401);
    const blocked = await login('a4', PASSWORD, A);
    expect(blocked.status).toBe(429);
    for (const id of ['b1', 'b2']) expect((await login(id, 'guess', B)).status).toBe(401);
    // Locked everywhere now: the account reached 5 failures.
    expect((await login('b3', PASSWORD, B)).status).toBe(429);
    clock.advance(WINDOW);
    expect((await login('a5', PASSWORD, A)).status).toBe(200);
    expect((await login('a6', PASSWORD, A)).status).toBe(200);

    const until = start0 + WINDOW;
    expect(events).toEqual([
      {
        event: 'lockout.started',
        time: start0,
        request_id: 'a3',
        client_ip: A,
        key_kind: 'account_ip',
        until,
      },
      {
        event: 'login.failed',
        time: start0,
        request_id: 'a4',
        client_ip: A,
        user_id: undefined,
        reason: 'locked_out',
      },
      {
        event: 'lockout.started',
        time: start0,
        request_id: 'b2',
        client_ip: B,
        key_kind: 'account',
        until,
      },
      {
        event: 'login.failed',
        time: start0,
        request_id: 'b3',
        client_ip: B,
        user_id: undefined,
        reason: 'locked_out',
      },
      {
        event: 'lockout.ended',
        time: until,
        request_id: 'a5',
        client_ip: A,
        key_kind: 'account_ip',
        until,
      },
      {
        event: 'lockout.ended',
        time: until,
        request_id: 'a5',
        client_ip: B,
        key_kind: 'account',
        until,
      },
    ]);
    const text = JSON.stringify(events);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(EMAIL);
  });

  it('publishes no lockout when the last allowed attempt succeeds', async () => {
    const { login } = await start(new ManualClock());
    const A = '198.51.100.1';
    for (const id of ['a1', 'a2']) expect((await login(id, 'guess', A)).status).toBe(401);
    expect((await login('a3', PASSWORD, A)).status).toBe(200);
    expect(events).toEqual([]);
  });

  it('publishes rate_limit.exceeded once per refused request', async () => {
    const clock = new ManualClock();
    const { search } = await start(clock);
    expect((await search('s1', '198.51.100.7')).status).toBe(200);
    expect((await search('s2', '198.51.100.7')).status).toBe(429);
    expect(events).toEqual([
      {
        event: 'rate_limit.exceeded',
        time: clock.now(),
        request_id: 's2',
        client_ip: '198.51.100.7',
        policy: 'search',
        key_kind: 'ip',
      },
    ]);
  });
});
