import type { AddressInfo } from 'node:net';
import {
  Controller,
  Delete,
  Get,
  type INestApplication,
  Module,
  NotFoundException,
  Post,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  type Context,
  createToolkit,
  defineDependency,
  ForbiddenError,
  HttpError,
  type Plugin,
  type ResponseInfo,
  requestBody,
  requestIdKey,
  type Toolkit,
  TooManyRequestsError,
  UnauthorizedError,
} from '@org/core';
import { Ctx, Dep, OrgToolkitModule, UseDependencies } from '@org/core/nest';
import { afterEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { decorate } from './nest-decorate.js';

const PROBLEM = 'application/problem+json';

interface User {
  readonly id: string;
  readonly roles: readonly string[];
}

/** `Authorization: Bearer <id>:<role>,<role>`, a stand-in for `auth.currentUser`. */
const currentUser = defineDependency({
  name: 'currentUser',
  resolve: (ctx): User => {
    const match = /^Bearer (\w+):([\w,]*)$/.exec(ctx.request.header('authorization') ?? '');
    if (match === null) {
      throw new UnauthorizedError({ challenge: 'Bearer realm="api", error="invalid_token"' });
    }
    return { id: match[1] as string, roles: (match[2] as string).split(',') };
  },
});

/** A stand-in for `auth.requireRoles('admin')`. */
const requireAdmin = defineDependency({
  name: 'requireAdmin',
  inject: { user: currentUser },
  resolve: async (_ctx, { user }) => {
    if (!user.roles.includes('admin')) throw new ForbiddenError();
    return user;
  },
});

/** Counts the teardowns of a per-request resource. */
const tornDown: string[] = [];
const connection = defineDependency({
  name: 'connection',
  resolve: (ctx) => ctx.requestId ?? 'none',
  teardown: (id) => void tornDown.push(id),
});

/** A query that stops when the request's signal aborts, saying why. */
const aborted: string[] = [];
const untilAborted = defineDependency({
  name: 'untilAborted',
  resolve: (ctx) =>
    new Promise<string>((_resolve, reject) => {
      ctx.signal.addEventListener('abort', () => {
        aborted.push((ctx.signal.reason as Error).name);
        reject(ctx.signal.reason);
      });
    }),
});

const NewPost = z.object({ title: z.string().min(1) });
const newPost = requestBody(NewPost);

class PostsController {
  me(user: User, ctx: Context) {
    return { user, requestId: ctx.requestId };
  }
  create(input: z.infer<typeof NewPost>) {
    return { created: input.title };
  }
  remove() {
    return { removed: true };
  }
  fail() {
    throw new HttpError(409, { code: 'ERR_TAKEN', detail: 'Taken.' });
  }
  missing() {
    throw new NotFoundException('Post /secret/path not found');
  }
}
decorate(
  PostsController,
  'me',
  [Get('me'), UseDependencies({ connection, user: currentUser })],
  [Dep(currentUser), Ctx()],
);
decorate(
  PostsController,
  'create',
  [Post(), UseDependencies({ user: currentUser })],
  [Dep(newPost)],
);
decorate(PostsController, 'remove', [Delete(':id'), UseDependencies({ admin: requireAdmin })]);
decorate(PostsController, 'fail', [Get('fail')]);
decorate(PostsController, 'missing', [Get('missing')]);
Controller('posts')(PostsController);

/** What the plugins saw: request ids and finished responses. */
interface Probe {
  readonly responses: ResponseInfo[];
}

function toolkitWith(probe: Probe): Toolkit {
  let next = 0;
  const requestId: Plugin = {
    name: 'request-id',
    onRequest: (ctx) => {
      const id = `req-${++next}`;
      ctx.set(requestIdKey, id);
      ctx.setHeader('x-request-id', id);
    },
  };
  const rateLimit: Plugin = {
    name: 'rate-limit',
    onRequest: (ctx) => {
      ctx.setHeader('ratelimit', '"test";r=9;t=60');
      if (ctx.request.header('x-exhausted') !== undefined) {
        throw new TooManyRequestsError({ retryAfter: 60 });
      }
    },
    onResponse: (_ctx, info) => void probe.responses.push(info),
  };
  // Answers with a reply of its own, as @org/observability's load shedder does.
  const shed: Plugin = {
    name: 'shed',
    onRequest: (ctx) =>
      ctx.request.header('x-overloaded') === undefined
        ? undefined
        : {
            status: 503,
            headers: { 'content-type': PROBLEM, 'retry-after': '10' },
            body: { status: 503, title: 'Service Unavailable', code: 'ERR_OVERLOADED' },
          },
  };
  return createToolkit({ plugins: [requestId, shed, rateLimit] });
}

const platforms = [
  { name: 'express', adapter: () => new ExpressAdapter() },
  { name: 'fastify', adapter: () => new FastifyAdapter() },
] as const;

describe.each(platforms)('nest on $name', ({ adapter }) => {
  let app: INestApplication | undefined;
  let probe: Probe;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(): Promise<string> {
    probe = { responses: [] };
    const toolkit = toolkitWith(probe);
    class AppModule {}
    Module({
      imports: [
        OrgToolkitModule.forRoot({
          toolkit,
          routes: [
            {
              method: 'GET',
              path: '/neutral/:id',
              dependencies: { user: currentUser },
              handler: (ctx, { user }) => ({
                body: { id: ctx.request.params.id, user: user.id, route: ctx.request.route },
              }),
            },
            {
              method: 'GET',
              path: '/slow',
              deadlineMs: 50,
              dependencies: { query: untilAborted },
              handler: () => ({ body: 'never' }),
            },
          ],
        }),
      ],
      controllers: [PostsController],
    })(AppModule);
    app = await NestFactory.create(AppModule, adapter(), { bodyParser: false, logger: false });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  const expectProblem = async (response: Response, status: number, code: string) => {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe(PROBLEM);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status, code, request_id: response.headers.get('x-request-id') });
    expect(response.headers.get('ratelimit')).toBe('"test";r=9;t=60');
    return body;
  };

  it('answers 401 with WWW-Authenticate before the handler, 200 with the user', async () => {
    const url = await start();
    const anonymous = await fetch(`${url}/posts/me`);
    await expectProblem(anonymous, 401, 'ERR_UNAUTHORIZED');
    expect(anonymous.headers.get('www-authenticate')).toBe(
      'Bearer realm="api", error="invalid_token"',
    );
    const signedIn = await fetch(`${url}/posts/me`, {
      headers: { authorization: 'Bearer ann:user' },
    });
    expect(signedIn.status).toBe(200);
    expect(signedIn.headers.get('x-request-id')).toMatch(/^req-\d+$/);
    expect(await signedIn.json()).toEqual({
      user: { id: 'ann', roles: ['user'] },
      requestId: signedIn.headers.get('x-request-id'),
    });
  });

  it('answers 403 for a missing role, and runs the handler for an admin', async () => {
    const url = await start();
    const user = await fetch(`${url}/posts/7`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer ann:user' },
    });
    await expectProblem(user, 403, 'ERR_FORBIDDEN');
    const admin = await fetch(`${url}/posts/7`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer bob:admin' },
    });
    expect(admin.status).toBe(200);
    expect(await admin.json()).toEqual({ removed: true });
  });

  it('validates the body with the toolkit: 422 with errors[], then the value', async () => {
    const url = await start();
    const post = (body: string) =>
      fetch(`${url}/posts`, {
        method: 'POST',
        headers: { authorization: 'Bearer ann:user', 'content-type': 'application/json' },
        body,
      });
    const invalid = await expectProblem(await post('{"title":""}'), 422, 'ERR_VALIDATION');
    expect(invalid.errors).toEqual([expect.objectContaining({ pointer: '/title' })]);
    await expectProblem(await post('{"title":'), 400, 'ERR_MALFORMED_JSON');
    const created = await post('{"title":"Hello"}');
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ created: 'Hello' });
  });

  it("writes a thrown HttpError and Nest's HttpException as problems", async () => {
    const url = await start();
    const taken = await expectProblem(await fetch(`${url}/posts/fail`), 409, 'ERR_TAKEN');
    expect(taken.detail).toBe('Taken.');
    const missing = await fetch(`${url}/posts/missing`);
    const body = await expectProblem(missing, 404, 'ERR_NOT_FOUND');
    expect(JSON.stringify(body)).not.toContain('secret');
  });

  it('answers an unknown route with a 404 problem that does not echo the path', async () => {
    const url = await start();
    const response = await fetch(`${url}/no/such/%3Cscript%3E`);
    const body = await expectProblem(response, 404, 'ERR_NOT_FOUND');
    expect(JSON.stringify(body)).not.toMatch(/script|no\/such/);
  });

  it("answers with a plugin's error before routing (a 429)", async () => {
    const url = await start();
    const response = await fetch(`${url}/posts/me`, { headers: { 'x-exhausted': '1' } });
    await expectProblem(response, 429, 'ERR_RATE_LIMITED');
    expect(response.headers.get('retry-after')).toBe('60');
  });

  it('mounts framework-neutral routes with their dependencies and template', async () => {
    const url = await start();
    await expectProblem(await fetch(`${url}/neutral/5`), 401, 'ERR_UNAUTHORIZED');
    const response = await fetch(`${url}/neutral/5`, {
      headers: { authorization: 'Bearer ann:user' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toMatch(/^req-\d+$/);
    expect(await response.json()).toEqual({ id: '5', user: 'ann', route: '/neutral/:id' });
  });

  it("sends a plugin's own reply (a load shedder's 503) before any guard or route", async () => {
    const url = await start();
    for (const path of ['/posts/me', '/neutral/5']) {
      const response = await fetch(`${url}${path}`, { headers: { 'x-overloaded': '1' } });
      expect(response.status).toBe(503);
      expect(response.headers.get('content-type')).toBe(PROBLEM);
      expect(response.headers.get('retry-after')).toBe('10');
      expect(response.headers.get('x-request-id')).toMatch(/^req-\d+$/); // plugins before it ran
      expect(response.headers.get('ratelimit')).toBeNull(); // plugins after it did not
      expect(await response.json()).toMatchObject({ status: 503, code: 'ERR_OVERLOADED' });
    }
  });

  it("answers 504 at a neutral route's deadline and aborts its work", async () => {
    const url = await start();
    aborted.length = 0;
    await expectProblem(await fetch(`${url}/slow`), 504, 'ERR_DEADLINE_EXCEEDED');
    expect(aborted).toEqual(['DeadlineExceededError']);
  });

  it('tears down and tells onResponse once per request', async () => {
    const url = await start();
    tornDown.length = 0;
    await (await fetch(`${url}/posts/me`, { headers: { authorization: 'Bearer a:user' } })).text();
    await (await fetch(`${url}/posts/me`)).text();
    await expect.poll(() => probe.responses.length).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(probe.responses.map((info) => info.status)).toEqual([200, 401]);
    expect(tornDown).toHaveLength(2);
    expect(new Set(tornDown).size).toBe(2);
  });
});
