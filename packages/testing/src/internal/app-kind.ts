/**
 * Tells the five app kinds apart by shape, without importing any framework, so
 * `@org/testing` works whichever of them the app uses.
 */
import { Server as HttpServer, type RequestListener } from 'node:http';

/** A fastify instance, as far as `inject` goes (light-my-request). */
export interface InjectableApp {
  inject(options: {
    method: string;
    url: string;
    headers: Record<string, string | string[]>;
    payload?: Buffer;
  }): PromiseLike<{
    statusCode: number;
    headers: Record<string, string | string[] | number | undefined>;
    body: string;
  }>;
}

/** A hono app (or any app with the WinterCG `request` helper). */
export interface FetchApp {
  fetch(request: Request, ...rest: never[]): Response | Promise<Response>;
  request(input: string, init?: RequestInit): Response | Promise<Response>;
}

/** What createRequester knew how to call. */
export type AppKind =
  | { readonly kind: 'url'; readonly baseUrl: string }
  | { readonly kind: 'inject'; readonly app: InjectableApp }
  | { readonly kind: 'fetch'; readonly app: FetchApp }
  | { readonly kind: 'server'; readonly server: HttpServer }
  | { readonly kind: 'listener'; readonly listener: RequestListener; readonly framework: string };

const isFunction = (value: unknown): value is (...args: never[]) => unknown =>
  typeof value === 'function';

function member(value: unknown, name: string): unknown {
  return value !== null && (typeof value === 'object' || typeof value === 'function')
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

/** The kind of `app`, or undefined when it is none of them. */
export function detectApp(app: unknown): AppKind | undefined {
  if (typeof app === 'string' || app instanceof URL) {
    return { kind: 'url', baseUrl: String(app).replace(/\/+$/, '') };
  }
  if (app instanceof HttpServer) return { kind: 'server', server: app };
  // fastify: `inject` (light-my-request) needs no socket.
  if (isFunction(member(app, 'inject'))) return { kind: 'inject', app: app as InjectableApp };
  // hono: `fetch` and `request` on the app.
  if (isFunction(member(app, 'fetch')) && isFunction(member(app, 'request'))) {
    return { kind: 'fetch', app: app as FetchApp };
  }
  // koa: `callback()` returns the node request listener.
  const callback = member(app, 'callback');
  if (typeof app === 'object' && isFunction(callback) && isFunction(member(app, 'use'))) {
    const listener = (callback as () => RequestListener).call(app);
    return { kind: 'listener', listener, framework: 'koa' };
  }
  // @org/core/node: `createNodeAdapter(...)` returns `{ handler, route, ... }`.
  const handler = member(app, 'handler');
  if (typeof app === 'object' && isFunction(handler) && isFunction(member(app, 'route'))) {
    return { kind: 'listener', listener: handler as RequestListener, framework: 'node' };
  }
  if (isFunction(app)) {
    // express (a function with `handle` and `use`), or a plain `(req, res)` listener.
    const express = isFunction(member(app, 'handle')) && isFunction(member(app, 'use'));
    return {
      kind: 'listener',
      listener: app as unknown as RequestListener,
      framework: express ? 'express' : 'node',
    };
  }
  return undefined;
}
