import { type Context, type Dependency, defineDependency } from '@org/core';

/**
 * Marks the response as never to be stored by any cache: `Cache-Control: no-store`
 * (RFC 9111 section 5.2.2.5), plus `Pragma: no-cache` for old HTTP/1.0 caches, as
 * RFC 6749 section 5.1 requires on responses carrying tokens or credentials.
 *
 * @example
 * ```ts
 * app.post('/auth/login', { form }, async (ctx, { form }) => { noStore(ctx); return { body: await login(form) }; });
 * ```
 */
export function noStore(ctx: Context): void {
  ctx.setHeader('cache-control', 'no-store');
  ctx.setHeader('pragma', 'no-cache');
}

/**
 * {@link noStore} as a route dependency, so the header is set before the handler
 * runs and is kept on error responses too.
 *
 * @example
 * ```ts
 * app.post('/auth/refresh', { noStore: noStoreDependency, body }, refresh);
 * ```
 */
export const noStoreDependency: Dependency<void> = defineDependency({
  name: 'noStore',
  resolve: noStore,
});
