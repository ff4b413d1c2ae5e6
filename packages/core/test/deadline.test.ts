import {
  ConfigurationError,
  createToolkit,
  DeadlineExceededError,
  defineDependency,
  type RequestOutcome,
} from '@org/core';
import { adapters, deferred, type RunningApp } from '@org/test-support';
import { afterEach, describe, expect, it, vi } from 'vitest';

describe.each(adapters)('route deadlines on $name', (fixture) => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('answers 504 at the deadline, aborts the signal for a dependency that honours it, runs teardowns with the outcome, drops the late reply', async () => {
    const stopped = deferred<unknown>();
    const outcome = deferred<RequestOutcome>();
    const late = deferred<void>();
    const onError = vi.fn();
    // Honours the signal: a query that stops when told.
    const query = defineDependency({
      name: 'query',
      resolve: (ctx) =>
        new Promise<string>((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => {
            stopped.resolve(ctx.signal.reason);
            reject(ctx.signal.reason);
          });
        }),
    });
    // A transaction opened before the query: its teardown learns how the request ended.
    const transaction = defineDependency({
      name: 'transaction',
      resolve: () => 'tx',
      teardown: (_tx, result) => outcome.resolve(result),
    });
    // Ignores the signal: resolves only when the test says, after the 504.
    const stubborn = defineDependency({
      name: 'stubborn',
      resolve: () => late.promise.then(() => 'late'),
    });
    const handler = vi.fn(() => ({ body: { never: true } }));
    app = await fixture.start(createToolkit({ deadlineMs: 60_000, onError }), [
      {
        method: 'GET',
        path: '/honours',
        deadlineMs: 50,
        dependencies: { transaction, query },
        handler,
      },
      {
        method: 'GET',
        path: '/ignores',
        deadlineMs: 50,
        dependencies: { stubborn },
        handler,
      },
      { method: 'GET', path: '/fast', handler: () => ({ body: { ok: true } }) },
    ]);

    const honoured = await fetch(`${app.url}/honours`);
    expect(honoured.status).toBe(504);
    expect(honoured.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await honoured.json()).toMatchObject({
      status: 504,
      code: 'ERR_DEADLINE_EXCEEDED',
      detail: 'The request took longer than its deadline.',
    });
    expect(await stopped.promise).toBeInstanceOf(DeadlineExceededError);
    const ended = await outcome.promise;
    expect(ended).toMatchObject({ status: 504, failed: true });
    expect(ended.error).toBeInstanceOf(DeadlineExceededError);

    const ignored = await fetch(`${app.url}/ignores`);
    expect(ignored.status).toBe(504);
    expect(await ignored.json()).toMatchObject({ code: 'ERR_DEADLINE_EXCEEDED' });
    late.resolve();
    // The late reply goes nowhere; the connection and the server go on.
    const fast = await fetch(`${app.url}/fast`);
    expect(fast.status).toBe(200);
    expect(await fast.json()).toEqual({ ok: true });
    expect(handler).toHaveBeenCalledTimes(1); // /ignores ran late; /honours never did
    // The deadline errors reached the hook; the abort the dependency passed on did not.
    expect(onError.mock.calls.map(([error]) => (error as Error).name)).toEqual([
      'DeadlineExceededError',
      'DeadlineExceededError',
    ]);
  });

  it("applies the toolkit's default, which a route can turn off", async () => {
    const release = deferred<void>();
    const slow = defineDependency({ name: 'slow', resolve: () => release.promise });
    app = await fixture.start(createToolkit({ deadlineMs: 50 }), [
      { method: 'GET', path: '/bounded', dependencies: { slow }, handler: () => ({ body: 1 }) },
      {
        method: 'GET',
        path: '/unbounded',
        deadlineMs: false,
        dependencies: { slow },
        handler: () => ({ body: 2 }),
      },
    ]);
    const unbounded = fetch(`${app.url}/unbounded`);
    // Started later, answered at the default deadline: /unbounded is past it by now.
    expect((await fetch(`${app.url}/bounded`)).status).toBe(504);
    release.resolve();
    const answer = await unbounded;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toBe(2);
  });
});

describe('deadline options', () => {
  it('rejects a bad deadline at start, naming the option', () => {
    expect(() => createToolkit({ deadlineMs: 0 })).toThrow(ConfigurationError);
    expect(() => createToolkit({ deadlineMs: 1.5 })).toThrow(/deadlineMs/);
    expect(() => createToolkit({ deadlineMs: 2 ** 31 })).toThrow(/deadlineMs/);
  });
});
