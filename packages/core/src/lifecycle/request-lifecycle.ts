// Every request of every adapter goes through here: plugins (sync, async, throwing, an
// early reply), the route's dependencies, the handler, then the reply or the problem.
// The end of the response (teardowns, `onResponse`) is AdapterContext.finish, which the
// adapter's `watchEnd` calls. Adapters supply only the framework's steps in between.
import { Buffer } from 'node:buffer';
import { type Context, resolveEntries, watchRequestEnd } from '../context/context.js';
import { PROBLEM_CONTENT_TYPE, type ProblemResponse } from '../errors/problem.js';
import type { Reply } from '../toolkit/plugin.js';
import type { PreparedRoute, ToolkitRuntime } from '../toolkit/toolkit.js';
import type { AdapterContext, ResponseWriter } from './adapter-context.js';

const NO_CONTENT: Reply = Object.freeze({ status: 204 });

/**
 * What an adapter does around the plugins, made once per adapter. `arg` is the
 * framework's per-request continuation (express's `next`, fastify's `done`), passed
 * through so no closure is made per request.
 */
export interface RequestSteps<C extends AdapterContext, A, R> {
  /** No plugin answered: hand the request on (routing, `next()`, `done()`). */
  proceed(ctx: C, arg: A): R;
  /** A plugin threw or rejected, or its reply could not be written. */
  fail(ctx: C, arg: A, error: unknown): R;
  /** A plugin's reply was written (hono hands its Response over here). */
  answered?(ctx: C, arg: A): R;
}

/**
 * The arrival of a request: watches its end when something needs it, then runs the
 * plugins inside the request's async context (when tracked). Each step continues
 * synchronously when the one before did.
 */
export function startRequest<C extends AdapterContext, A, R>(
  ctx: C,
  arg: A,
  steps: RequestSteps<C, A, R>,
): R | undefined | Promise<R | undefined> {
  watchRequestEnd(ctx);
  const toolkit = ctx.toolkit as ToolkitRuntime;
  return toolkit.asyncContext
    ? toolkit.runInContext(ctx, () => runPlugins(ctx, arg, steps))
    : runPlugins(ctx, arg, steps);
}

function runPlugins<C extends AdapterContext, A, R>(
  ctx: C,
  arg: A,
  steps: RequestSteps<C, A, R>,
): R | undefined | Promise<R | undefined> {
  let early: ReturnType<ToolkitRuntime['runPlugins']>;
  try {
    early = (ctx.toolkit as ToolkitRuntime).runPlugins(ctx);
  } catch (error) {
    return steps.fail(ctx, arg, error);
  }
  if (!(early instanceof Promise)) return answer(ctx, arg, steps, early);
  return early.then(
    (reply) => answer(ctx, arg, steps, reply),
    (error: unknown) => steps.fail(ctx, arg, error),
  );
}

function answer<C extends AdapterContext, A, R>(
  ctx: C,
  arg: A,
  steps: RequestSteps<C, A, R>,
  early: Reply | void,
): R | undefined {
  if (early === undefined) return steps.proceed(ctx, arg);
  try {
    ctx.sendReply(early);
  } catch (error) {
    return steps.fail(ctx, arg, error);
  }
  return steps.answered?.(ctx, arg);
}

/** A route as the lifecycle runs it: its prepared dependencies and how the adapter calls its handler. */
export interface LifecycleRoute<C extends Context, A, R> extends PreparedRoute {
  /** Calls the handler with the resolved values (`req.user`, `ctx.state.user`, `c.get('user')`...). */
  call(ctx: C, arg: A, values: Record<string, unknown>): R;
}

/**
 * Resolves the route's dependencies, then calls its handler: synchronously, without a
 * promise, when every dependency is synchronous.
 */
export function runRoute<C extends Context, A, R>(
  ctx: C,
  route: LifecycleRoute<C, A, R>,
  arg: A,
): R | Promise<Awaited<R>> {
  const resolved = resolveEntries(ctx, route.entries);
  return resolved instanceof Promise
    ? (resolved.then((values) => route.call(ctx, arg, values)) as Promise<Awaited<R>>)
    : route.call(ctx, arg, resolved);
}

/** Sends what a framework-neutral handler returned; undefined sends 204. */
export function sendResult(
  ctx: AdapterContext,
  result: Reply | undefined | Promise<Reply | undefined>,
): void | Promise<void> {
  return result instanceof Promise
    ? result.then((reply) => ctx.sendReply(reply ?? NO_CONTENT))
    : ctx.sendReply(result ?? NO_CONTENT);
}

/**
 * Ends a request with `error` as an RFC 9457 problem. `shown` is what the client is
 * told when the framework's own error maps onto the toolkit's (a body parser's 400).
 */
export function failRequest(ctx: AdapterContext, error: unknown, shown: unknown = error): void {
  ctx.failure = error;
  writeProblem(ctx, (ctx.toolkit as ToolkitRuntime).renderError(shown, ctx));
}

/**
 * The one way a problem is written: content headers set for the failed body dropped,
 * `application/problem+json`, and the JSON as bytes so no framework re-serializes it
 * or appends a charset. After the headers went out, only aborting is left.
 */
export function writeProblem(writer: ResponseWriter, problem: ProblemResponse): void {
  if (writer.headersSent) {
    writer.abort();
    return;
  }
  writer.dropContentHeaders();
  writer.sendReply({
    status: problem.status,
    headers: { ...problem.headers, 'content-type': PROBLEM_CONTENT_TYPE },
    body: Buffer.from(JSON.stringify(problem.body)),
  });
}
