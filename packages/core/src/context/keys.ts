/**
 * A typed key for the per-request store. Create one per value a package puts on the
 * context; two keys never collide even when their names match.
 *
 * @example
 * ```ts
 * const tenantKey = createContextKey<string>('tenant');
 * ctx.set(tenantKey, 'acme');
 * ctx.get(tenantKey); // 'acme' | undefined
 * ```
 */
export interface ContextKey<T> {
  /** Name shown in debugging output. */
  readonly name: string;
  /** @internal phantom field carrying the value type. */
  readonly __type?: T;
}

/**
 * Creates a {@link ContextKey}. Create each key once, at module level, and share it:
 * a key made per request would never find what another one stored.
 *
 * @example
 * ```ts
 * export const tenantKey = createContextKey<string>('tenant');
 * const tenant: Plugin = {
 *   name: 'tenant',
 *   onRequest: (ctx) => ctx.set(tenantKey, ctx.request.header('x-tenant') ?? 'default'),
 * };
 * app.get('/settings', {}, (ctx) => ({ body: settingsOf(ctx.get(tenantKey)) }));
 * ```
 */
export function createContextKey<T>(name: string): ContextKey<T> {
  return Object.freeze({ name });
}

/** The request id of the current request, set by whoever assigns ids (the observability package). */
export const requestIdKey: ContextKey<string> = createContextKey<string>('requestId');

/**
 * The resolved client IP, set by the security package's resolver. Logs and limiters
 * read it through {@link Context.clientIp}.
 */
export const clientIpKey: ContextKey<string> = createContextKey<string>('clientIp');

/** The authenticated principal's id, set by the auth package, read by the access log. */
export const principalIdKey: ContextKey<string> = createContextKey<string>('principalId');
