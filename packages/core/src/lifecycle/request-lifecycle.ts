// Every request of every adapter goes through here: plugins (sync, async, throwing, an
// early reply), the route's dependencies, the handler, then the reply or the problem.
// The end of the response (teardowns, `onResponse`) is AdapterContext.finish, which the
// adapter's `watchEnd` calls. Adapters supply only the framework's steps in between.
import { Buffer } from 'node:buffer';
import {
  type Context,
  expireRequest,
  handlerInterceptors,
  isExpired,
  isFinished,
  resolveEntries,
  watchRequestEnd,
} from '../context/context.js';
import { DeadlineExceededError } from '../errors/http-error.js';
import { asError, PROBLEM_CONTENT_TYPE, type ProblemResponse } from '../errors/problem.js';
import type { Reply } from '../toolkit/plugin.js';
import type { HandlerInterceptor } from '../toolkit/route.js';
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
    ctx.sendReply(checkedReply(early));
  } catch (error) {
    return steps.fail(ctx, arg, error);
  }
  return steps.answered?.(ctx, arg);
}

/** A route as the lifecycle runs it: its prepared dependencies and how the adapter calls its handler. */
export interface LifecycleRoute<C extends Context, A, R> extends PreparedRoute {
  /**
   * Milliseconds from the first dependency to the reply before the request is answered
   * 504 and its work aborted (see `Route.deadlineMs`); only for routes whose reply goes
   * through {@link sendResult}. @default undefined (none)
   */
  readonly deadlineMs?: number;
  /** Calls the handler with the resolved values (`req.user`, `ctx.state.user`, `c.get('user')`...). */
  call(ctx: C, arg: A, values: Record<string, unknown>): R;
}

/**
 * Resolves the route's dependencies, then calls its handler: synchronously, without a
 * promise, when every dependency is synchronous. With a deadline (`route.deadlineMs`),
 * a timer answers 504 when they take longer and aborts `ctx.signal`.
 */
export function runRoute<C extends Context, A, R>(
  ctx: C,
  route: LifecycleRoute<C, A, R>,
  arg: A,
): R | Promise<Awaited<R>> {
  if (route.deadlineMs === undefined) return resolveAndCall(ctx, route, arg);
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Settles the route early: koa writes and hono returns its response only then.
  const deadline = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => {
      if (expire(ctx)) resolve(undefined);
    }, route.deadlineMs);
  });
  let result: R | Promise<Awaited<R>>;
  try {
    result = resolveAndCall(ctx, route, arg);
  } catch (error) {
    clearTimeout(timer);
    throw error;
  }
  if (!(result instanceof Promise)) {
    clearTimeout(timer);
    return result;
  }
  const settled = result.finally(() => clearTimeout(timer));
  // A failure after the deadline answered has no response left: failRequest reports it.
  settled.catch((error: unknown) => {
    if (isExpired(ctx)) failRequest(ctx as unknown as AdapterContext, error);
  });
  return Promise.race([settled, deadline]) as Promise<Awaited<R>>;
}

function resolveAndCall<C extends Context, A, R>(
  ctx: C,
  route: LifecycleRoute<C, A, R>,
  arg: A,
): R | Promise<Awaited<R>> {
  const resolved = resolveEntries(ctx, route.entries);
  return resolved instanceof Promise
    ? (resolved.then((values) => route.call(ctx, arg, values)) as Promise<Awaited<R>>)
    : route.call(ctx, arg, resolved);
}

/**
 * A route's deadline passed before its reply: answer 504 now, abort `ctx.signal` so the
 * work can stop, and drop what the route sends or throws later ({@link sendResult},
 * {@link failRequest}). Nothing to do (false) once the response has started.
 */
function expire(ctx: Context): boolean {
  const adapterCtx = ctx as AdapterContext;
  if (adapterCtx.headersSent || isFinished(ctx)) return false;
  const error = new DeadlineExceededError();
  failRequest(adapterCtx, error);
  expireRequest(ctx, error);
  return true;
}

/** What a framework-neutral handler returns. */
type HandlerResult = Reply | undefined | Promise<Reply | undefined>;

/**
 * Calls a framework-neutral handler through the interceptors its request registered
 * (`ctx.interceptHandler`), the first registered outermost; directly when there is none.
 */
export function callHandler(
  ctx: Context,
  route: { handler(ctx: Context, values: Record<string, unknown>): HandlerResult },
  values: Record<string, unknown>,
): HandlerResult {
  const interceptors = handlerInterceptors(ctx);
  if (interceptors === undefined) return route.handler(ctx, values);
  const count = interceptors.length;
  const step = async (index: number): Promise<Reply | undefined> =>
    index === count
      ? route.handler(ctx, values)
      : (interceptors[index] as HandlerInterceptor)(() => step(index + 1));
  return step(0);
}

/**
 * Sends what a framework-neutral handler returned; undefined sends 204. A reply that
 * comes after the route's deadline answered is dropped.
 */
export function sendResult(
  ctx: AdapterContext,
  result: Reply | undefined | Promise<Reply | undefined>,
): void | Promise<void> {
  return result instanceof Promise ? result.then((reply) => send(ctx, reply)) : send(ctx, result);
}

function send(ctx: AdapterContext, reply: Reply | undefined): void {
  if (!isExpired(ctx)) ctx.sendReply(reply === undefined ? NO_CONTENT : checkedReply(reply));
}

/**
 * `reply`, once its status is one a final response can have: an integer from 200 to 599
 * (RFC 9110 section 15; 1xx are interim). Frameworks disagree on the others (Node sends
 * 999, hono turns 0 into 200, express sends 200.5 as 200), so none reaches them.
 */
function checkedReply(reply: Reply): Reply {
  const { status } = reply;
  if (status !== undefined && !(Number.isInteger(status) && status >= 200 && status <= 599)) {
    throw Object.assign(
      new TypeError(
        `A reply's status must be an integer from 200 to 599; received ${String(status)}.`,
      ),
      { code: 'ERR_INVALID_REPLY_STATUS' },
    );
  }
  return reply;
}

/**
 * Ends a request with `error` as an RFC 9457 problem. `shown` is what the client is
 * told when the framework's own error maps onto the toolkit's (a body parser's 400).
 */
export function failRequest(ctx: AdapterContext, error: unknown, shown: unknown = error): void {
  // After the deadline answered, the route's own failure has no one to go to; the
  // reason the work was aborted with is the deadline's, already reported.
  if (isExpired(ctx)) {
    if (!(ctx.signal.reason === error || (error as Error | null)?.name === 'AbortError'))
      (ctx.toolkit as ToolkitRuntime).reportError(error, ctx, 'route after its deadline');
    return;
  }
  // What teardowns, onResponse and onError see is an Error, whatever was thrown.
  const failure = asError(error);
  ctx.failure = failure;
  writeProblem(
    ctx,
    (ctx.toolkit as ToolkitRuntime).renderError(shown === error ? failure : shown, ctx),
  );
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
