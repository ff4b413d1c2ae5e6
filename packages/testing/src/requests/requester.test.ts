import { createServer } from 'node:http';
import { createToolkit, type Toolkit } from '@org/core';
import { adapters } from '@org/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type RouteSpec } from '../../test/support/build-app.js';
import { TestingError } from '../errors/testing-error.js';
import { createRequester, type Requester } from './requester.js';

const routes: RouteSpec[] = [
  {
    method: 'GET',
    path: '/echo',
    handler: (ctx) => ({
      headers: { 'set-cookie': 'a=1', 'x-reply': 'yes' },
      body: {
        method: ctx.request.method,
        query: Object.fromEntries(ctx.request.query),
        test: ctx.request.header('x-test') ?? null,
      },
    }),
  },
  ...(['POST', 'PUT', 'PATCH', 'DELETE'] as const).map(
    (method): RouteSpec => ({
      method,
      path: '/echo',
      handler: async (ctx) => ({
        body: {
          method: ctx.request.method,
          type: ctx.request.header('content-type') ?? null,
          body: (await ctx.request.body()) ?? null,
        },
      }),
    }),
  ),
  { method: 'GET', path: '/text', handler: () => ({ body: 'plain words' }) },
  { method: 'GET', path: '/empty', handler: () => undefined },
];

function requesterContract(
  name: string,
  open: () => Promise<Requester>,
  done: () => Promise<void>,
) {
  describe(name, () => {
    let api: Requester;
    beforeAll(async () => {
      api = await open();
    });
    afterAll(async () => {
      await api.close();
      await done();
    });

    it('returns status, lower-case headers and parsed JSON', async () => {
      const res = await api.get('/echo', {
        headers: { 'X-Test': 'hello' },
        query: { a: 1, b: 'two' },
      });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['x-reply']).toBe('yes');
      expect(res.setCookie).toEqual(['a=1']);
      expect(res.body).toEqual({ method: 'GET', query: { a: '1', b: 'two' }, test: 'hello' });
      expect(JSON.parse(res.text)).toEqual(res.body);
    });

    it.each(['post', 'put', 'patch', 'delete'] as const)('%s sends JSON bodies', async (method) => {
      const res = await api[method]('/echo', { json: { n: 1 } });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        method: method.toUpperCase(),
        type: 'application/json',
        body: { n: 1 },
      });
    });

    it('sends OAuth2-style forms', async () => {
      const res = await api.post('/echo', { form: { username: 'ann', password: 'p w' } });
      expect(res.body).toEqual({
        method: 'POST',
        type: 'application/x-www-form-urlencoded',
        body: { username: 'ann', password: 'p w' },
      });
    });

    it('parses problem+json and keeps text as text', async () => {
      const missing = await api.get('/nowhere');
      expect(missing.status).toBe(404);
      expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(missing.body).toMatchObject({ status: 404, code: expect.any(String) });
      const text = await api.get('/text');
      expect(text.body).toBe('plain words');
      const empty = await api.get('/empty');
      expect(empty.status).toBe(204);
      expect(empty.text).toBe('');
    });
  });
}

describe.each(adapters)('createRequester on $name', (fixture) => {
  let toolkit: Toolkit;
  let close: () => Promise<void> = async () => {};
  requesterContract(
    'in-process, given the app object',
    async () => {
      toolkit = createToolkit();
      const built = await buildApp(fixture.name, toolkit, routes);
      close = built.close;
      return createRequester(built.app);
    },
    () => close(),
  );
  let stop: () => Promise<void> = async () => {};
  requesterContract(
    'over HTTP, given the base URL of a running app',
    async () => {
      const running = await fixture.start(createToolkit(), routes);
      stop = running.close;
      return createRequester(running.url);
    },
    () => stop(),
  );
});

describe('createRequester kinds', () => {
  it('calls a plain (req, res) listener and an http.Server, and closes only what it opened', async () => {
    const listener = (
      req: import('node:http').IncomingMessage,
      res: import('node:http').ServerResponse,
    ) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ url: req.url, auth: req.headersDistinct.authorization ?? [] }));
    };
    const plain = createRequester(listener);
    const twice = await plain.get('/x', { headers: { authorization: ['Bearer a', 'Bearer b'] } });
    expect(twice.body).toEqual({ url: '/x', auth: ['Bearer a', 'Bearer b'] });
    await plain.close();

    const server = createServer(listener);
    const api = createRequester(server);
    expect(server.listening).toBe(false);
    expect((await api.get('/y')).body).toMatchObject({ url: '/y' });
    expect(server.listening).toBe(true);
    await api.close();
    expect(server.listening).toBe(false);

    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const shared = createRequester(server);
    await shared.get('/z');
    await shared.close();
    expect(server.listening).toBe(true);
    await new Promise((resolve) => server.close(resolve));
  });

  it('refuses what it cannot call, and ambiguous bodies, with stable codes', async () => {
    expect(() => createRequester({})).toThrow(
      expect.objectContaining({ code: 'ERR_UNSUPPORTED_APP' }),
    );
    const api = createRequester(() => {});
    await expect(api.post('/', { json: {}, form: {} })).rejects.toBeInstanceOf(TestingError);
    await expect(api.post('/', { json: {}, body: '' })).rejects.toMatchObject({
      code: 'ERR_INVALID_REQUEST',
    });
    await api.close();
  });
});
