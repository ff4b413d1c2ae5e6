import { request as httpRequest } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import {
  BadRequestError,
  ConflictError,
  type Context,
  createToolkit,
  defineDependency,
  ForbiddenError,
  type HttpError,
  InternalServerError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  type RequestOutcome,
  requestBody,
  requestQuery,
  ServiceUnavailableError,
  type Toolkit,
  TooManyRequestsError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '@org/core';
import { getCurrentContext } from '@org/core/adapter';
import {
  abandonRequest,
  adapters,
  deferred,
  type RouteSpec,
  type RunningApp,
  rawConnection,
  rawExchange,
} from '@org/test-support';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { teardownProbe } from './teardown-probe.js';

const PROBLEM = 'application/problem+json';

/** Resolves when `signal` aborts. */
function abortOf(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve()));
}

/** A request through node:http, which (unlike fetch) may send TRACE. */
function fetchRaw(
  url: string,
  method: string,
  headers: Record<string, string> = {},
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.each(adapters)('$name adapter', (fixture) => {
  let app: RunningApp | undefined;
  const start = async (routes: RouteSpec[], toolkit: Toolkit = createToolkit()) => {
    app = await fixture.start(toolkit, routes);
    return app.url;
  };
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('resolves a shared dependency once per request, exposed the framework’s way or mounted', async () => {
    let calls = 0;
    const db = defineDependency({ name: 'db', resolve: async () => ({ id: ++calls }) });
    const users = defineDependency({
      name: 'users',
      inject: { db },
      resolve: (_ctx, { db }) => `users@${db.id}`,
    });
    const orders = defineDependency({
      name: 'orders',
      inject: { db },
      resolve: async (_ctx, { db }) => `orders@${db.id}`,
    });
    const handler = (_ctx: Context, values: Record<string, unknown>) => ({ body: values });
    const dependencies = { users, orders, db };
    const url = await start([
      // Native: kit.route, the values read back from req, request, ctx.state or c.get.
      { method: 'GET', path: '/memo', dependencies, handler, native: true },
      { method: 'GET', path: '/mounted', dependencies, handler },
    ]);
    const first = await fetch(`${url}/memo`);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ users: 'users@1', orders: 'orders@1', db: { id: 1 } });
    const second = await fetch(`${url}/memo`);
    expect(await second.json()).toEqual({ users: 'users@2', orders: 'orders@2', db: { id: 2 } });
    const mounted = await fetch(`${url}/mounted`);
    expect(mounted.status).toBe(200);
    expect(await mounted.json()).toEqual({ users: 'users@3', orders: 'orders@3', db: { id: 3 } });
    expect(calls).toBe(3);
  });

  it('runs a teardown once after the response, told whether the request failed', async () => {
    const outcomes: RequestOutcome[] = [];
    let done = deferred<void>();
    const tx = defineDependency({
      name: 'tx',
      resolve: () => ({ open: true }),
      teardown: (_value, outcome) => {
        outcomes.push(outcome);
        done.resolve();
      },
    });
    const url = await start([
      { method: 'GET', path: '/ok', dependencies: { tx }, handler: () => ({ body: { ok: true } }) },
      {
        method: 'GET',
        path: '/fail',
        dependencies: { tx },
        handler: () => {
          throw new ConflictError({ detail: 'taken' });
        },
      },
    ]);
    const ok = await fetch(`${url}/ok`);
    expect(ok.status).toBe(200);
    await done.promise;
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ failed: false, aborted: false, status: 200 });

    done = deferred();
    const fail = await fetch(`${url}/fail`);
    expect(fail.status).toBe(409);
    await done.promise;
    expect(outcomes).toHaveLength(2);
    expect(outcomes[1]).toMatchObject({ failed: true, aborted: false, status: 409 });
  });

  it('tracks the current context only when a plugin declares asyncContext', async () => {
    const seen = async (toolkit: Toolkit): Promise<unknown> => {
      const url = await start(
        [
          {
            method: 'GET',
            path: '/seen',
            dependencies: {},
            handler: async (ctx) => {
              await Promise.resolve();
              return { body: { same: getCurrentContext() === ctx } };
            },
          },
        ],
        toolkit,
      );
      const response = await fetch(`${url}/seen`);
      expect(response.status).toBe(200);
      await app?.close();
      app = undefined;
      return ((await response.json()) as { same: boolean }).same;
    };
    const needsIt = { name: 'needs-context', asyncContext: true };
    expect(await seen(createToolkit())).toBe(false);
    expect(await seen(createToolkit({ plugins: [needsIt] }))).toBe(true);
  });

  it('forgets a finished request: its async context empties and an idle keep-alive connection does not hold it', async () => {
    // Node arms the idle timer of a keep-alive socket inside the async context of the
    // request that just ended; that timer must not keep the request alive.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    let request: WeakRef<object> | undefined;
    const tornDown = deferred<void>();
    const gate = deferred<void>();
    let seenAfterwards: unknown = 'not yet';
    const capture = defineDependency({
      name: 'capture',
      resolve: (ctx) => {
        request = new WeakRef(ctx);
        return 1;
      },
      teardown: () => tornDown.resolve(),
    });
    const url = await start(
      [
        {
          method: 'GET',
          path: '/ctx',
          dependencies: { capture },
          handler: () => {
            void gate.promise.then(() => {
              seenAfterwards = getCurrentContext();
            });
            return { body: { seen: getCurrentContext() !== undefined } };
          },
        },
      ],
      createToolkit({ plugins: [{ name: 'tracks', asyncContext: true }] }),
    );
    // fetch keeps the connection open (keep-alive) after the response.
    const response = await fetch(`${url}/ctx`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ seen: true });
    await tornDown.promise;
    await turn();
    gate.resolve();
    await turn();
    expect(seenAfterwards).toBeUndefined();
    gc();
    await turn();
    gc();
    expect(request?.deref()).toBeUndefined();
  });

  it('runs the teardown with aborted=true when the client goes away', async () => {
    const handlerStarted = deferred<void>();
    const tx = teardownProbe('tx');
    const url = await start([
      {
        method: 'GET',
        path: '/slow',
        dependencies: { tx: tx.dependency },
        handler: async (ctx) => {
          handlerStarted.resolve();
          await abortOf(ctx.signal);
          return { body: 'late' };
        },
      },
    ]);
    await abandonRequest(`${url}/slow`, handlerStarted.promise);
    const outcome = await tx.tornDown;
    expect(outcome).toMatchObject({ aborted: true, failed: true });
  });

  it('aborts ctx.signal when the client goes away, with no teardown or plugin watching', async () => {
    const aborted = deferred<void>();
    const handlerStarted = deferred<void>();
    const url = await start([
      {
        method: 'GET',
        path: '/wait',
        handler: async (ctx) => {
          const { signal } = ctx;
          handlerStarted.resolve();
          await abortOf(signal);
          aborted.resolve();
          return { body: 'late' };
        },
      },
    ]);
    await abandonRequest(`${url}/wait`, handlerStarted.promise);
    await aborted.promise;
  });

  it('tears down a dependency that resolves after the client left, and its late signal is aborted', async () => {
    const ended = deferred<void>();
    const handlerStarted = deferred<void>();
    let lateSignal: AbortSignal | undefined;
    const late = teardownProbe();
    const url = await start(
      [
        {
          method: 'GET',
          path: '/late',
          handler: async (ctx) => {
            handlerStarted.resolve();
            await ended.promise;
            // The request has ended: what resolves now must still be released.
            await ctx.resolve(late.dependency);
            lateSignal = ctx.signal;
            return { body: 'nobody is listening' };
          },
        },
      ],
      createToolkit({ plugins: [{ name: 'ended', onResponse: () => ended.resolve() }] }),
    );
    await abandonRequest(`${url}/late`, handlerStarted.promise);
    expect(await late.tornDown).toMatchObject({ status: 0, aborted: true, failed: true });
    await expect.poll(() => lateSignal?.aborted).toBe(true);
  });

  it('reads repeated request headers the same way on every adapter', async () => {
    const url = await start([
      {
        method: 'GET',
        path: '/headers',
        handler: (ctx) => ({
          body: {
            authorization: ctx.request.header('Authorization') ?? null,
            authorizations: ctx.request.headerValues('authorization'),
            forwarded: ctx.request.header('x-forwarded-for') ?? null,
            forwardedValues: ctx.request.headerValues('x-forwarded-for'),
            missing: ctx.request.header('x-missing') ?? null,
            missingValues: ctx.request.headerValues('X-Missing'),
            single: ctx.request.header('x-single') ?? null,
          },
        }),
      },
    ]);
    const body = await new Promise<unknown>((resolve, reject) => {
      const req = httpRequest(`${url}/headers`, (res) => {
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve(JSON.parse(text)));
      });
      req.on('error', reject);
      req.setHeader('authorization', ['Bearer first', 'Bearer second']);
      // Sent with this case: names match whatever case they arrive in.
      req.setHeader('X-Forwarded-For', ['192.0.2.1', '198.51.100.2']);
      req.setHeader('X-SINGLE', 'once');
      req.end();
    });
    // Node's rules: a single-value header keeps its first value, a list header joins.
    expect(body).toEqual({
      authorization: 'Bearer first',
      authorizations: ['Bearer first', 'Bearer second'],
      forwarded: '192.0.2.1, 198.51.100.2',
      forwardedValues: ['192.0.2.1', '198.51.100.2'],
      missing: null,
      missingValues: [],
      single: 'once',
    });
  });

  it('applies app-wide and scoped overrides, and restores them', async () => {
    const currentUser = defineDependency({
      name: 'currentUser',
      resolve: (): { id: string } => ({ id: 'real' }),
    });
    const toolkit = createToolkit();
    const url = await start(
      [
        {
          method: 'GET',
          path: '/me',
          dependencies: { user: currentUser },
          handler: (_c, v) => ({ body: v.user }),
        },
      ],
      toolkit,
    );
    expect(await (await fetch(`${url}/me`)).json()).toEqual({ id: 'real' });
    {
      using _override = toolkit.overrides.override(currentUser, () => ({ id: 'fake' }));
      expect(await (await fetch(`${url}/me`)).json()).toEqual({ id: 'fake' });
    }
    expect(await (await fetch(`${url}/me`)).json()).toEqual({ id: 'real' });
    await toolkit.overrides.run([[currentUser, () => ({ id: 'scoped' })]], async () => {
      expect(await (await fetch(`${url}/me`)).json()).toEqual({ id: 'scoped' });
    });
    expect(await (await fetch(`${url}/me`)).json()).toEqual({ id: 'real' });
  });

  const errors: [string, HttpError, Record<string, string>][] = [
    ['400', new BadRequestError({ detail: 'bad' }), {}],
    [
      '401',
      new UnauthorizedError({ challenge: 'Bearer realm="api", error="invalid_token"' }),
      {
        'www-authenticate': 'Bearer realm="api", error="invalid_token"',
      },
    ],
    ['403', new ForbiddenError(), {}],
    ['404', new NotFoundError(), {}],
    ['405', new MethodNotAllowedError({ allow: ['GET', 'POST'] }), { allow: 'GET, POST' }],
    ['409', new ConflictError(), {}],
    ['413', new PayloadTooLargeError(), {}],
    ['415', new UnsupportedMediaTypeError(), {}],
    [
      '422',
      new ValidationError([
        { pointer: '/email', location: 'body', detail: 'bad', code: 'invalid_format' },
      ]),
      {},
    ],
    ['429', new TooManyRequestsError({ retryAfter: 30 }), { 'retry-after': '30' }],
    ['503', new ServiceUnavailableError({ retryAfter: 5 }), { 'retry-after': '5' }],
    ['500', new InternalServerError(), {}],
  ];

  it.each(errors)('renders HttpError %s as an RFC 9457 problem', async (status, error, headers) => {
    const url = await start([
      {
        method: 'GET',
        path: '/boom',
        handler: () => {
          throw error;
        },
      },
    ]);
    const res = await fetch(`${url}/boom`);
    expect(res.status).toBe(Number(status));
    expect(res.headers.get('content-type')).toBe(PROBLEM);
    for (const [name, value] of Object.entries(headers)) expect(res.headers.get(name)).toBe(value);
    const body = await res.json();
    expect(body).toMatchObject({
      type: 'about:blank',
      title: error.title,
      status: Number(status),
      code: error.code,
    });
    if (status === '422')
      expect(body.errors).toEqual([
        { pointer: '/email', location: 'body', detail: 'bad', code: 'invalid_format' },
      ]);
  });

  it('turns a plain Error into a 500 that leaks nothing', async () => {
    const url = await start([
      {
        method: 'GET',
        path: '/crash',
        handler: () => {
          throw new Error('SQLITE_CONSTRAINT at /srv/app/db.ts password=hunter2');
        },
      },
    ]);
    const res = await fetch(`${url}/crash`);
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBe(PROBLEM);
    const text = await res.text();
    expect(text).not.toContain('SQLITE');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('/srv/app');
    expect(text).not.toMatch(/\bat /);
    expect(JSON.parse(text)).toEqual({
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      code: 'ERR_INTERNAL',
    });
  });

  it('answers a reply header Node refuses with a 500 problem that leaks nothing, and reports it', async () => {
    const reported: unknown[] = [];
    const toolkit = createToolkit({ onError: (error) => void reported.push(error) });
    const reply = (headers: Record<string, string>) => () => ({ headers, body: { ok: true } });
    const url = await start(
      [
        { method: 'GET', path: '/value', handler: reply({ 'x-a': 'a\r\nInjected: yes' }) },
        { method: 'GET', path: '/name', handler: reply({ 'x a': 'b' }) },
        { method: 'GET', path: '/native', native: true, handler: reply({ 'x-a': 'a\nb' }) },
      ],
      toolkit,
    );
    for (const path of ['/value', '/name', '/native']) {
      const res = await fetch(`${url}${path}`);
      expect(res.status, path).toBe(500);
      expect(res.headers.get('content-type'), path).toBe(PROBLEM);
      expect(res.headers.has('injected'), path).toBe(false);
      expect(await res.json(), path).toEqual({
        type: 'about:blank',
        title: 'Internal Server Error',
        status: 500,
        code: 'ERR_INTERNAL',
      });
    }
    // Node's coded TypeErrors; hono's come from its (undici) Headers.
    expect(reported).toHaveLength(3);
    for (const error of reported) expect(error).toBeInstanceOf(TypeError);
  });

  it('answers a thrown value that is not an Error with a 500 problem, and reports it', async () => {
    const reported: unknown[] = [];
    let ran = 0;
    const toolkit = createToolkit({
      plugins: [
        {
          name: 'throws-nothing',
          onRequest: (ctx) => {
            if (ctx.request.path === '/plugin') throw undefined;
          },
        },
      ],
      onError: (error) => void reported.push(error),
    });
    const url = await start(
      [
        {
          method: 'GET',
          path: '/string',
          handler: () => {
            throw 'boom';
          },
        },
        {
          method: 'GET',
          path: '/undefined',
          handler: () => {
            throw undefined;
          },
        },
        { method: 'GET', path: '/null', handler: () => Promise.reject(null) },
        {
          method: 'GET',
          path: '/object',
          handler: () => {
            throw { status: 404 };
          },
        },
        {
          method: 'GET',
          path: '/plugin',
          handler: () => {
            ran++;
            return { body: 'ran' };
          },
        },
      ],
      toolkit,
    );
    for (const path of ['/string', '/undefined', '/null', '/plugin']) {
      const res = await fetch(`${url}${path}`);
      expect(res.status, path).toBe(500);
      expect(res.headers.get('content-type'), path).toBe(PROBLEM);
      expect(await res.json(), path).toMatchObject({ status: 500, code: 'ERR_INTERNAL' });
    }
    // Rendered as what was thrown: an object with a 4xx status, as a framework's client error.
    const object = await fetch(`${url}/object`);
    expect(object.status).toBe(404);
    expect(await object.json()).toMatchObject({ code: 'ERR_NOT_FOUND' });
    expect(ran).toBe(0);
    // Each reported as an Error, what was thrown as its cause.
    for (const error of reported) expect(error).toBeInstanceOf(Error);
    expect(reported.map((error) => (error as Error).cause)).toEqual([
      'boom',
      undefined,
      null,
      undefined,
    ]);
  });

  it('answers a reply status a final response cannot have with a 500 problem', async () => {
    const reported: unknown[] = [];
    const toolkit = createToolkit({
      plugins: [
        {
          name: 'early',
          onRequest: (ctx) => (ctx.request.path === '/early' ? { status: 42 } : undefined),
        },
      ],
      onError: (error) => void reported.push(error),
    });
    const statuses = [0, 100, 200.5, 600, 999];
    const url = await start(
      [
        ...statuses.map((status) => ({
          method: 'GET' as const,
          path: `/s/${String(status).replace('.', '_')}`,
          handler: () => ({ status, body: { ok: true } }),
        })),
        { method: 'GET', path: '/early', handler: () => ({ body: 'route' }) },
      ],
      toolkit,
    );
    for (const path of [...statuses.map((s) => `/s/${String(s).replace('.', '_')}`), '/early']) {
      const res = await fetch(`${url}${path}`);
      expect(res.status, path).toBe(500);
      expect(res.headers.get('content-type'), path).toBe(PROBLEM);
      expect(await res.json(), path).toMatchObject({ status: 500, code: 'ERR_INTERNAL' });
    }
    expect(reported.map((error) => (error as { code?: string }).code)).toEqual(
      Array(statuses.length + 1).fill('ERR_INVALID_REPLY_STATUS'),
    );
  });

  it('shows the message of a 500 only in explicit development mode', async () => {
    const url = await start(
      [
        {
          method: 'GET',
          path: '/crash',
          handler: () => {
            throw new Error('visible in dev');
          },
        },
        {
          method: 'GET',
          path: '/string',
          handler: () => {
            throw 'a string, visible in dev';
          },
        },
      ],
      createToolkit({ development: true }),
    );
    const body = await (await fetch(`${url}/crash`)).json();
    expect(body.detail).toBe('visible in dev');
    const thrown = await (await fetch(`${url}/string`)).json();
    expect(thrown).toMatchObject({ status: 500, detail: 'a string, visible in dev' });
  });

  it('answers 422 with an RFC 6901 pointer per failed rule, and coerces the query', async () => {
    const Create = z.object({ email: z.email(), tags: z.array(z.string()).max(1) });
    const Page = z.object({
      limit: z.number().int().max(100).default(20),
      active: z.boolean().optional(),
    });
    const url = await start([
      {
        method: 'POST',
        path: '/users',
        dependencies: { input: requestBody(Create) },
        handler: (_c, v) => ({ status: 201, body: v.input }),
      },
      {
        method: 'GET',
        path: '/users',
        dependencies: { page: requestQuery(Page) },
        handler: (_c, v) => ({ body: v.page }),
      },
    ]);
    const res = await fetch(`${url}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'nope', tags: ['a', 'b'] }),
    });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toBe(PROBLEM);
    const body = await res.json();
    expect(body.code).toBe('ERR_VALIDATION');
    expect(body.errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual([
      '/email',
      '/tags',
    ]);
    for (const issue of body.errors)
      expect(issue).toMatchObject({
        location: 'body',
        code: expect.any(String),
        detail: expect.any(String),
      });

    const good = await fetch(`${url}/users?limit=10&active=true`);
    expect(await good.json()).toEqual({ limit: 10, active: true });
    const bad = await fetch(`${url}/users?limit=1000`);
    expect(bad.status).toBe(422);
    expect((await bad.json()).errors[0]).toMatchObject({ pointer: '/limit', location: 'query' });
  });

  it('parses an OAuth2 password form like JSON', async () => {
    const Form = z.object({
      username: z.string(),
      password: z.string(),
      grant_type: z.literal('password').optional(),
    });
    const url = await start([
      {
        method: 'POST',
        path: '/token',
        dependencies: { form: requestBody(Form) },
        handler: (_c, v) => ({ body: v.form }),
      },
    ]);
    const res = await fetch(`${url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=a%40b.c&password=p%26w&grant_type=password',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      username: 'a@b.c',
      password: 'p&w',
      grant_type: 'password',
    });
  });

  describe('hostile bodies', () => {
    const Any = z.record(z.string(), z.unknown());
    const routes: RouteSpec[] = [
      {
        method: 'POST',
        path: '/echo',
        dependencies: { input: requestBody(Any) },
        handler: (_c, v) => ({
          body: {
            keys: Object.keys(v.input as object),
            polluted: ({} as Record<string, unknown>).polluted ?? null,
          },
        }),
      },
    ];

    it('answers a body that stops arriving with 408 and closes the connection', async () => {
      // /own-body/: on express, read by the adapter rather than express.json().
      const echo = { ...(routes[0] as RouteSpec), path: '/own-body/echo' };
      const url = await start([echo], createToolkit({ bodyTimeoutMs: 200 }));
      const answer = await rawExchange(
        url,
        'POST /own-body/echo HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n' +
          'content-length: 100\r\n\r\n{"name":',
      );
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(answer.toLowerCase()).toContain('connection: close');
      expect(answer.toLowerCase()).toContain(`content-type: ${PROBLEM}`);
      expect(answer).toContain('"code":"ERR_BODY_TIMEOUT"');
      // A body that keeps arriving, however slowly, is read whole.
      const slow = await fetch(`${url}/own-body/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new ReadableStream({
          async start(controller) {
            for (const part of ['{"a":', '1,"b"', ':2}']) {
              controller.enqueue(new TextEncoder().encode(part));
              await new Promise((resolve) => setTimeout(resolve, 120));
            }
            controller.close();
          },
        }),
        duplex: 'half',
      } as RequestInit);
      expect(slow.status).toBe(200);
      expect(await slow.json()).toMatchObject({ keys: ['a', 'b'] });
    });

    it('answers malformed JSON with a fixed 400, never the parser text', async () => {
      const url = await start(routes);
      const res = await fetch(`${url}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"a": tru',
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe(PROBLEM);
      const body = await res.json();
      expect(body).toMatchObject({
        status: 400,
        code: 'ERR_MALFORMED_JSON',
        detail: 'The request body is not valid JSON.',
      });
      expect(JSON.stringify(body)).not.toMatch(/Unexpected|position|token/i);
    });

    it('answers 415 for an unsupported content type', async () => {
      const url = await start(routes);
      const res = await fetch(`${url}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        body: '<a/>',
      });
      expect(res.status).toBe(415);
      expect(res.headers.get('content-type')).toBe(PROBLEM);
      expect((await res.json()).code).toBe('ERR_UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers 415 with Accept-Encoding for a content-coded body, never decoding it', async () => {
      let ran = 0;
      const url = await start([
        {
          method: 'POST',
          path: '/own-body/echo',
          dependencies: { input: requestBody(Any) },
          handler: (_c, v) => {
            ran++;
            return { body: v.input };
          },
        },
      ]);
      const json = JSON.stringify({ name: 'a' });
      const post = (encoding: string, body: BodyInit) =>
        fetch(`${url}/own-body/echo`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-encoding': encoding },
          body,
        });
      for (const [encoding, body] of [
        ['gzip', new Uint8Array(gzipSync(json))],
        ['br', json],
        ['GZIP, identity', json],
      ] as const) {
        const res = await post(encoding, body);
        expect(res.status, encoding).toBe(415);
        expect(res.headers.get('content-type')).toBe(PROBLEM);
        expect(res.headers.get('accept-encoding')).toBe('identity');
        expect((await res.json()).code).toBe('ERR_UNSUPPORTED_MEDIA_TYPE');
      }
      expect(ran).toBe(0);
      const identity = await post('identity', json);
      expect(identity.status).toBe(200);
      expect(await identity.json()).toEqual({ name: 'a' });
    });

    it('answers 413 for a 2 MiB body', async () => {
      const url = await start(routes);
      const big = JSON.stringify({ blob: 'x'.repeat(2 * 1024 * 1024) });
      const res = await fetch(`${url}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: big,
      });
      expect(res.status).toBe(413);
      expect(res.headers.get('content-type')).toBe(PROBLEM);
      expect((await res.json()).code).toBe('ERR_BODY_TOO_LARGE');
    });

    it('answers 413 for a streamed body without Content-Length', async () => {
      const url = await start(routes);
      const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent === 0) controller.enqueue(new TextEncoder().encode('{"blob":"'));
          if (sent > 40) {
            controller.enqueue(new TextEncoder().encode('"}'));
            controller.close();
            return;
          }
          sent++;
          controller.enqueue(chunk);
        },
      });
      const res = await fetch(`${url}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: stream,
        duplex: 'half',
      } as RequestInit);
      expect(res.status).toBe(413);
      expect(res.headers.get('content-type')).toBe(PROBLEM);
    });

    it('answers 4xx for 10,000-deep nesting and keeps serving', async () => {
      const url = await start(routes);
      const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
      const res = await fetch(`${url}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"a":${deep}}`,
      });
      expect(res.status).toBe(400);
      expect((await res.json()).code).toBe('ERR_BODY_TOO_DEEP');
      const after = await fetch(`${url}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"ok":1}',
      });
      expect(after.status).toBe(200);
    });

    it('drops __proto__, constructor and prototype keys', async () => {
      const url = await start(routes);
      const res = await fetch(`${url}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"name":"x","__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}',
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ keys: ['name'], polluted: null });
    });
  });

  it('answers an unknown route with a 404 problem that never echoes the path', async () => {
    const url = await start([{ method: 'GET', path: '/known', handler: () => ({ body: 'ok' }) }]);
    const res = await fetch(`${url}/%3Cscript%3Ealert(1)%3C/script%3E`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe(PROBLEM);
    const text = await res.text();
    expect(text).not.toMatch(/script|alert|%3C/i);
    expect(JSON.parse(text)).toMatchObject({ status: 404, code: 'ERR_NOT_FOUND' });
  });

  it("answers what Node's HTTP parser rejects with a problem, then closes", async () => {
    const url = await start([{ method: 'GET', path: '/known', handler: () => ({ body: 'ok' }) }]);
    const tooLarge = await fetch(`${url}/known`, { headers: { 'x-big': 'a'.repeat(20_000) } });
    expect(tooLarge.status).toBe(431);
    expect(tooLarge.headers.get('content-type')).toBe(PROBLEM);
    expect(tooLarge.headers.get('connection')).toBe('close');
    expect(await tooLarge.json()).toEqual({
      type: 'about:blank',
      title: 'Request Header Fields Too Large',
      status: 431,
      code: 'ERR_HEADERS_TOO_LARGE',
      detail: 'The request header fields are too large.',
    });

    const unknownMethod = await rawExchange(url, 'FOO /known HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(unknownMethod).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(unknownMethod).toContain(`content-type: ${PROBLEM}\r\n`);
    const body = JSON.parse(unknownMethod.slice(unknownMethod.indexOf('\r\n\r\n') + 4));
    expect(body).toMatchObject({ status: 400, code: 'ERR_BAD_REQUEST' });
    expect(JSON.stringify(body)).not.toMatch(/FOO|HPE_/);
  });

  it('answers pipelined requests in order and whole, then a parser error on the same connection', async () => {
    // The parser error's problem is written and its connection destroyed in one turn.
    const url = await start([
      { method: 'GET', path: '/a', handler: () => ({ body: 'first' }) },
      { method: 'GET', path: '/b', handler: async () => ({ body: { second: true } }) },
    ]);
    const connection = await rawConnection(url);
    const request = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;
    connection.socket.write(request('/a') + request('/b') + request('/a'));
    await vi.waitFor(() => expect(connection.received.match(/HTTP\/1\.1 200 /g)).toHaveLength(3));
    const answers = connection.received;
    expect(answers.indexOf('first')).toBeLessThan(answers.indexOf('{"second":true}'));
    expect(answers.lastIndexOf('first')).toBeGreaterThan(answers.indexOf('{"second":true}'));
    connection.socket.write(request('/a', `x-big: ${'a'.repeat(20_000)}\r\n`));
    await connection.closed;
    const received = connection.received.slice(answers.length);
    expect(received).toMatch(/^HTTP\/1\.1 431 /);
    expect(received.endsWith('"detail":"The request header fields are too large."}')).toBe(true);
  });

  it('answers a known path asked with another method 405 with Allow, and never echoes TRACE', async () => {
    const url = await start([
      { method: 'GET', path: '/items/:id', handler: () => ({ body: 'item' }) },
      { method: 'DELETE', path: '/items/:id', handler: () => undefined },
      { method: 'POST', path: '/items', handler: () => ({ status: 201, body: 'made' }) },
    ]);
    for (const method of ['PUT', 'PATCH', 'TRACE']) {
      const res = await fetchRaw(`${url}/items/7`, method, { 'x-secret': 'never-echoed' });
      expect(res.status).toBe(405);
      expect(res.headers['content-type']).toBe(PROBLEM);
      expect(String(res.headers.allow).split(/,\s*/).sort()).toEqual(['DELETE', 'GET', 'HEAD']);
      expect(JSON.parse(res.body)).toMatchObject({ status: 405, code: 'ERR_METHOD_NOT_ALLOWED' });
      expect(res.body).not.toContain('never-echoed');
    }
    const post = await fetch(`${url}/items/7`, { method: 'POST' });
    expect(post.status).toBe(405);
    const list = await fetch(`${url}/items`, { method: 'GET' });
    expect(list.status).toBe(405);
    expect(list.headers.get('allow')).toBe('POST');
    const unknown = await fetch(`${url}/nothing/here`, { method: 'PUT' });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.has('allow')).toBe(false);
    // A method no route implements, on a path no route has: 404 too, never a 5xx.
    for (const method of ['PROPFIND', 'TRACE']) {
      const res = await fetchRaw(`${url}/nothing/here`, method, {});
      expect(res.status, method).toBe(404);
      expect(res.headers['content-type']).toBe(PROBLEM);
    }
  });

  it('answers a path parameter that is not valid percent-encoding 400 ERR_BAD_PATH, mounted or native', async () => {
    let ran = 0;
    const handler = (ctx: Context) => {
      ran++;
      return { body: { id: ctx.request.params.id } };
    };
    const url = await start([
      { method: 'GET', path: '/users/:id', handler },
      { method: 'GET', path: '/native/:id', native: true, handler },
    ]);
    for (const base of ['/users', '/native']) {
      ran = 0;
      for (const bad of ['%E0%A4%A', '%', '%C3']) {
        const res = await fetch(`${url}${base}/${bad}`);
        expect(res.status, `${base}/${bad}`).toBe(400);
        expect(res.headers.get('content-type')).toBe(PROBLEM);
        expect(await res.json()).toMatchObject({ code: 'ERR_BAD_PATH' });
      }
      expect(ran).toBe(0);
      for (const [good, id] of [
        ['%25', '%'],
        ['caf%C3%A9', 'caf\u00e9'],
      ]) {
        const res = await fetch(`${url}${base}/${good}`);
        expect(await res.json()).toEqual({ id });
      }
    }
  });

  it('answers a malformed URL with a problem that never echoes it', async () => {
    const url = await start([{ method: 'GET', path: '/known', handler: () => ({ body: 'ok' }) }]);
    const res = await fetch(`${url}/%E0%A4%A<b>`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers.get('content-type')).toBe(PROBLEM);
    expect(await res.text()).not.toMatch(/%E0|<b>|%3Cb/i);
  });

  it('lets the first declared failure win and leaves no rejection unhandled', async () => {
    const guard = defineDependency({
      name: 'guard',
      resolve: async (): Promise<string> => {
        await Promise.resolve();
        throw new UnauthorizedError();
      },
    });
    const page = requestQuery(z.object({ n: z.number() }));
    const url = await start([
      {
        method: 'GET',
        path: '/guarded',
        dependencies: { guard, page },
        handler: () => ({ body: 'never' }),
      },
    ]);
    const res = await fetch(`${url}/guarded?n=abc`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    expect((await res.json()).code).toBe('ERR_UNAUTHORIZED');
  });

  it('gives dependencies the matched route template, never the raw path', async () => {
    const route = defineDependency({
      name: 'route',
      resolve: (ctx) => ({
        route: ctx.request.route,
        path: ctx.request.path,
        params: ctx.request.params,
      }),
    });
    const url = await start([
      {
        method: 'GET',
        path: '/users/:id',
        dependencies: { route },
        handler: (_c, v) => ({ body: v.route }),
      },
    ]);
    const res = await fetch(`${url}/users/42`);
    expect(await res.json()).toEqual({
      route: '/users/:id',
      path: '/users/42',
      params: { id: '42' },
    });
  });

  it('lets a dependency set response headers, kept on error responses too', async () => {
    const stamp = defineDependency({
      name: 'stamp',
      resolve: (ctx) => ctx.setHeader('x-stamp', 'yes'),
    });
    const url = await start([
      { method: 'GET', path: '/ok', dependencies: { stamp }, handler: () => ({ body: 'ok' }) },
      {
        method: 'GET',
        path: '/err',
        dependencies: { stamp },
        handler: () => {
          throw new ForbiddenError();
        },
      },
    ]);
    expect((await fetch(`${url}/ok`)).headers.get('x-stamp')).toBe('yes');
    const err = await fetch(`${url}/err`);
    expect(err.status).toBe(403);
    expect(err.headers.get('x-stamp')).toBe('yes');
  });

  it('runs plugins on every request, matched or not, and lets one answer early', async () => {
    const seen: (string | undefined)[] = [];
    const toolkit = createToolkit({
      plugins: [
        { name: 'tag', onRequest: (ctx) => ctx.setHeader('x-plugin', 'on') },
        {
          name: 'preflight',
          onRequest: (ctx) =>
            ctx.request.method === 'OPTIONS'
              ? { status: 204, headers: { 'x-early': '1' } }
              : undefined,
        },
        {
          name: 'seen',
          onResponse: (ctx, info) =>
            seen.push(`${ctx.request.route ?? 'unmatched'} ${info.status}`),
        },
      ],
    });
    const url = await start(
      [{ method: 'GET', path: '/a/:id', handler: () => ({ body: 'ok' }) }],
      toolkit,
    );
    const ok = await fetch(`${url}/a/1`);
    expect(ok.headers.get('x-plugin')).toBe('on');
    await ok.text();
    const missing = await fetch(`${url}/nope`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-plugin')).toBe('on');
    await missing.text();
    const early = await fetch(`${url}/a/1`, { method: 'OPTIONS' });
    expect(early.status).toBe(204);
    expect(early.headers.get('x-early')).toBe('1');
    await expect.poll(() => seen.length).toBe(3);
    expect(seen.slice(0, 2)).toEqual(['/a/:id 200', 'unmatched 404']);
  });

  it('sends the headers plugins set, append and remove; a bad value fails before the route runs', async () => {
    let ran = 0;
    const toolkit = createToolkit({
      plugins: [
        {
          name: 'headers',
          onRequest: (ctx) => {
            ctx.setHeader('X-Set', 'first');
            ctx.setHeader('x-set', 'second');
            ctx.appendHeader('Vary', 'Origin');
            ctx.appendHeader('vary', 'Accept');
            ctx.appendHeader('set-cookie', 'a=1');
            ctx.appendHeader('Set-Cookie', 'b=2');
            ctx.setHeader('x-gone', 'soon');
            ctx.removeHeader('X-Gone');
            ctx.setHeader('constructor', 'plain');
            if (ctx.request.path === '/bad') ctx.setHeader('x-bad', 'a\r\nInjected: yes');
          },
        },
      ],
    });
    const url = await start(
      [
        { method: 'GET', path: '/ok', handler: () => ({ body: { ok: true } }) },
        {
          method: 'GET',
          path: '/bad',
          handler: () => {
            ran++;
            return { body: { ok: true } };
          },
        },
      ],
      toolkit,
    );
    const ok = await fetch(`${url}/ok`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-set')).toBe('second');
    expect(ok.headers.get('vary')).toBe('Origin, Accept');
    expect(ok.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(ok.headers.has('x-gone')).toBe(false);
    expect(ok.headers.get('constructor')).toBe('plain');
    expect(await ok.json()).toEqual({ ok: true });
    const bad = await fetch(`${url}/bad`);
    expect(bad.status).toBe(500);
    expect(bad.headers.get('content-type')).toBe(PROBLEM);
    expect(bad.headers.has('injected')).toBe(false);
    expect(ran).toBe(0);
    await bad.text();
  });

  it('answers a plugin failure, sync or async, as a problem, and an async early reply as given', async () => {
    const toolkit = createToolkit({
      plugins: [
        { name: 'tag', onRequest: (ctx) => ctx.setHeader('x-plugin', 'on') },
        {
          name: 'gate',
          onRequest: (ctx) => {
            const mode = ctx.request.header('x-mode');
            if (mode === 'throw') throw new ForbiddenError({ detail: 'sync' });
            if (mode === 'reject') return Promise.reject(new ForbiddenError({ detail: 'async' }));
            if (mode === 'crash') return Promise.reject(new Error('secret driver text'));
            if (mode === 'reply') return Promise.resolve({ status: 202, body: { early: true } });
            return undefined;
          },
        },
      ],
    });
    const url = await start(
      [{ method: 'GET', path: '/a', handler: () => ({ body: { ok: true } }) }],
      toolkit,
    );
    for (const [mode, detail] of [
      ['throw', 'sync'],
      ['reject', 'async'],
    ] as const) {
      const refused = await fetch(`${url}/a`, { headers: { 'x-mode': mode } });
      expect(refused.status).toBe(403);
      expect(refused.headers.get('content-type')).toBe(PROBLEM);
      expect(refused.headers.get('x-plugin')).toBe('on');
      expect(await refused.json()).toMatchObject({ status: 403, code: 'ERR_FORBIDDEN', detail });
    }
    const crashed = await fetch(`${url}/a`, { headers: { 'x-mode': 'crash' } });
    expect(crashed.status).toBe(500);
    expect(crashed.headers.get('content-type')).toBe(PROBLEM);
    expect(await crashed.text()).not.toContain('secret driver text');
    const early = await fetch(`${url}/a`, { headers: { 'x-mode': 'reply' } });
    expect(early.status).toBe(202);
    expect(early.headers.get('x-plugin')).toBe('on');
    expect(await early.json()).toEqual({ early: true });
    const ok = await fetch(`${url}/a`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true });
  });

  it('sends an onResponse failure to onError, never to the client', async () => {
    const reported = deferred<unknown>();
    const toolkit = createToolkit({
      plugins: [
        {
          name: 'broken-log',
          onResponse: () => {
            throw new TypeError('log sink gone');
          },
        },
      ],
      onError: (error) => reported.resolve(error),
    });
    const url = await start(
      [{ method: 'GET', path: '/a', handler: () => ({ body: 'ok' }) }],
      toolkit,
    );
    const res = await fetch(`${url}/a`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
    expect(await reported.promise).toMatchObject({ name: 'TypeError', message: 'log sink gone' });
  });

  it('warns once per plugin and error code when no onError hook is set', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => {
      if (warning.name === 'OrgToolkitWarning') warnings.push(warning);
    };
    process.on('warning', onWarning);
    try {
      const toolkit = createToolkit({
        plugins: [
          {
            name: 'broken-log',
            onResponse: (ctx) => {
              const code = ctx.request.header('x-code') ?? 'ERR_SINK';
              throw Object.assign(new Error('log sink gone'), { code });
            },
          },
        ],
      });
      const url = await start(
        [{ method: 'GET', path: '/a', handler: () => ({ body: 'ok' }) }],
        toolkit,
      );
      for (const code of ['ERR_SINK', 'ERR_SINK', 'ERR_SINK', 'ERR_OTHER']) {
        const res = await fetch(`${url}/a`, { headers: { 'x-code': code } });
        expect(res.status).toBe(200);
        expect(await res.text()).toBe('ok');
      }
      await vi.waitFor(() => expect(warnings).toHaveLength(2));
      expect(warnings.map((w) => w.message)).toEqual([
        'plugin "broken-log" onResponse failed (ERR_SINK): log sink gone',
        'plugin "broken-log" onResponse failed (ERR_OTHER): log sink gone',
      ]);
      expect(warnings[0]).toMatchObject({ code: 'ORG_UNHANDLED_FAILURE' });
    } finally {
      process.off('warning', onWarning);
    }
  });
});
