// `ctx.interceptHandler` on each adapter, over real HTTP: a dependency sees the reply of a
// framework-neutral route before it is sent, replaces it, or answers without the handler.
import {
  ConflictError,
  createToolkit,
  defineDependency,
  type HandlerInterceptor,
  type Reply,
} from '@org/core';
import { adapters, type RouteSpec, type RunningApp } from '@org/test-support';
import { afterEach, describe, expect, it } from 'vitest';

/** A dependency that registers `interceptor` for its request. */
const around = (name: string, interceptor: HandlerInterceptor) =>
  defineDependency({ name, resolve: (ctx) => ctx.interceptHandler(interceptor) });

/** Adds `name` to the `x-trail` header of the reply (undefined stays 204). */
const tagging =
  (name: string): HandlerInterceptor =>
  async (proceed) => {
    const reply: Reply = (await proceed()) ?? { status: 204 };
    const trail = reply.headers?.['x-trail'];
    return {
      ...reply,
      headers: { ...reply.headers, 'x-trail': trail ? `${trail},${name}` : name },
    };
  };

describe.each(adapters)('ctx.interceptHandler on $name', (fixture) => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  const start = async (routes: RouteSpec[]) => {
    app = await fixture.start(createToolkit({ onError: () => {} }), routes);
    return app.url;
  };

  it('runs interceptors around the handler, the first registered outermost', async () => {
    let runs = 0;
    const url = await start([
      {
        method: 'POST',
        path: '/wrapped',
        dependencies: {
          outer: around('outer', tagging('outer')),
          inner: around('inner', tagging('inner')),
        },
        handler: () => {
          runs++;
          return { status: 201, body: { ok: true } };
        },
      },
      {
        method: 'DELETE',
        path: '/empty',
        dependencies: { tag: around('tag', tagging('tag')) },
        handler: () => undefined,
      },
    ]);
    const res = await fetch(`${url}/wrapped`, { method: 'POST' });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-trail')).toBe('inner,outer');
    expect(await res.json()).toEqual({ ok: true });
    expect(runs).toBe(1);
    const empty = await fetch(`${url}/empty`, { method: 'DELETE' });
    expect(empty.status).toBe(204);
    expect(empty.headers.get('x-trail')).toBe('tag');
  });

  it('answers with its own reply without running the handler, or with a problem it throws', async () => {
    let runs = 0;
    const handler = () => {
      runs++;
      return { body: 'from the handler' };
    };
    const url = await start([
      {
        method: 'GET',
        path: '/stored',
        dependencies: {
          stored: around('stored', async () => ({
            status: 202,
            headers: { 'x-stored': '1' },
            body: 'stored',
          })),
        },
        handler,
      },
      {
        method: 'GET',
        path: '/refused',
        dependencies: {
          refuse: around('refuse', async () => {
            throw new ConflictError({ code: 'ERR_BUSY' });
          }),
        },
        handler,
      },
    ]);
    const stored = await fetch(`${url}/stored`);
    expect(stored.status).toBe(202);
    expect(stored.headers.get('x-stored')).toBe('1');
    expect(await stored.text()).toBe('stored');
    const refused = await fetch(`${url}/refused`);
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(await refused.json()).toMatchObject({ status: 409, code: 'ERR_BUSY' });
    expect(runs).toBe(0);
  });

  it('sees the error the handler throws, which is then answered as a problem', async () => {
    const seen: unknown[] = [];
    const url = await start([
      {
        method: 'GET',
        path: '/fails',
        dependencies: {
          watch: around('watch', async (proceed) => {
            try {
              return await proceed();
            } catch (error) {
              seen.push(error);
              throw error;
            }
          }),
        },
        handler: () => {
          throw new ConflictError({ code: 'ERR_TAKEN' });
        },
      },
    ]);
    const res = await fetch(`${url}/fails`);
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ code: 'ERR_TAKEN' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(ConflictError);
  });
});
