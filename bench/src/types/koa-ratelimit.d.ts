// koa-ratelimit ships no types; the options the peer koa stack uses.
declare module 'koa-ratelimit' {
  import type { Context, Middleware } from 'koa';

  interface RateLimitOptions {
    driver: 'memory' | 'redis';
    db: unknown;
    duration?: number;
    max?: number;
    id?: (ctx: Context) => string | false;
  }

  export default function ratelimit(options: RateLimitOptions): Middleware;
}
