import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import {
  type AnyDependency,
  type Dependency,
  DependencyCycleError,
  findCycle,
  injectEntriesOf,
  type RequestOutcome,
} from '../dependency/dependency.js';
import type { HandlerInterceptor } from '../toolkit/route.js';
import type { Toolkit, ToolkitRuntime } from '../toolkit/toolkit.js';
import { type ContextKey, clientIpKey, principalIdKey, requestIdKey } from './keys.js';
import type { RequestView } from './request-view.js';

interface Teardown {
  readonly dependency: AnyDependency;
  readonly value: unknown;
}

const NO_VALUES: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/** What {@link finishRequest} returns when nothing is left to wait for. */
const DONE: Promise<void> = Promise.resolve();

/** The memo's mark of a dependency whose injections are being resolved. */
const RESOLVING: unique symbol = Symbol('resolving');

/** Waits for every pending resolution and throws the first declared failure, else `fallback`. */
async function rethrowFirstFailure(
  pending: readonly Promise<unknown>[],
  fallback: unknown,
): Promise<never> {
  for (const result of await Promise.allSettled(pending)) {
    if (result.status === 'rejected') throw result.reason;
  }
  throw fallback;
}

function isPromiseLike<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/**
 * What the async context holds for a request; the request empties it when it ends.
 * Node arms a keep-alive socket's idle timer inside the async context of the request
 * that just finished, so a timer holding the context itself would keep that request
 * (framework request and response, body, resolved dependencies) alive until the
 * connection's next request or its timeout: per idle connection, under any load.
 */
interface ContextSlot {
  context: Context | undefined;
}

/** How a request ended, as its adapter reports it: a {@link RequestOutcome} without `failed`. */
export type EndOutcome = Omit<RequestOutcome, 'failed'> & { bytes?: number };

type Entries = readonly (readonly [string, AnyDependency])[];

const contextStorage = new AsyncLocalStorage<ContextSlot>();
let slotOf: (ctx: Context) => ContextSlot;

/**
 * Ends the request: runs teardowns once, newest first, then the plugins' `onResponse`.
 * Adapters call it (through `AdapterContext.finish`) when the response finished or the
 * client left. Failures in teardowns go to the toolkit's error hook, never to the client.
 * A dependency that resolves later is torn down at once with this outcome, and a
 * `ctx.signal` taken later is aborted when the client left.
 */
export let finishRequest: (ctx: Context, outcome: EndOutcome) => Promise<void>;
/**
 * Arranges for {@link finishRequest} to run once the response is complete or the
 * connection closed first, when something needs the end from the start (an `onResponse`
 * plugin, the async context); else the end is watched from the moment a teardown is
 * registered or the signal taken: a request nothing waits for adds no listener.
 */
export let watchRequestEnd: (ctx: Context) => void;
/** Whether {@link finishRequest} has run for `ctx`. */
export let isFinished: (ctx: Context) => boolean;
/** Resolves a record of dependencies, awaiting only when one of them is async. */
export let resolveEntries: (
  ctx: Context,
  entries: Entries,
) => Record<string, unknown> | Promise<Record<string, unknown>>;
/**
 * Ends the request's work at its deadline: aborts `ctx.signal` with `reason`, and from
 * then on the route's late reply or failure is dropped ({@link isExpired}).
 */
export let expireRequest: (ctx: Context, reason: unknown) => void;
/** Whether {@link expireRequest} ran for `ctx`. */
export let isExpired: (ctx: Context) => boolean;
/** The interceptors registered with {@link Context.interceptHandler}, first registered first. */
export let handlerInterceptors: (ctx: Context) => readonly HandlerInterceptor[] | undefined;

/**
 * The context of the request being handled, from anywhere in its async call tree (a
 * logger, a repository), or undefined outside a request.
 *
 * Contract: it returns the request only under a toolkit one of whose plugins declared
 * `asyncContext: true` (as the observability `requestId()` plugin does); under any
 * other toolkit it always returns undefined, since tracking costs every request. A
 * request ends when its response has been sent and its teardowns and `onResponse`
 * hooks have run; work it leaves running after that sees undefined.
 *
 * @example
 * ```ts
 * // A feature package's plugin asks for tracking; its logger reads the request.
 * const requestTracking: Plugin = { name: 'request-tracking', asyncContext: true };
 *
 * function logLine(message: string): void {
 *   const ctx = getCurrentContext(); // no ctx parameter threaded through the calls
 *   console.log(JSON.stringify({ message, request_id: ctx?.requestId }));
 * }
 * ```
 */
export function getCurrentContext(): Context | undefined {
  return contextStorage.getStore()?.context;
}

/** Runs `fn` with `ctx` as the current context (see {@link getCurrentContext}). */
export function runInContext<R>(ctx: Context, fn: () => R): R {
  return contextStorage.run(slotOf(ctx), fn);
}

/**
 * One request as every feature sees it: the request view, a per-request store, a
 * way to set response headers, an AbortSignal, and memoized dependencies.
 *
 * Adapters subclass it through `AdapterContext` (`@org/core/adapter`).
 */
export abstract class Context {
  /** The request. */
  readonly request: RequestView;
  /** The toolkit the request runs under. */
  readonly toolkit: Toolkit;
  /** `performance.now()` when the request arrived. */
  readonly startTime: number = performance.now();
  #store: Map<ContextKey<unknown>, unknown> | undefined;
  #memo: Map<AnyDependency, unknown> | undefined;
  #teardowns: Teardown[] | undefined;
  #controller: AbortController | undefined;
  /** Whether {@link Context.watchEnd} has run. */
  #watching = false;
  /** The outcome {@link finishRequest} ran with. */
  #ended: EndOutcome | undefined;
  #slot: ContextSlot | undefined;
  #interceptors: HandlerInterceptor[] | undefined;
  /** Why the request's work was cut short (its deadline), once it was. */
  #expired: unknown;

  static {
    slotOf = (ctx) => (ctx.#slot ??= { context: ctx });
    finishRequest = (ctx, outcome) => ctx.#finish(outcome);
    watchRequestEnd = (ctx) => {
      const runtime = ctx.toolkit as ToolkitRuntime;
      if (runtime.observesResponses || runtime.asyncContext) ctx.#watchOnce();
    };
    isFinished = (ctx) => ctx.#ended !== undefined;
    resolveEntries = (ctx, entries) => ctx.#collect(entries);
    handlerInterceptors = (ctx) => ctx.#interceptors;
    expireRequest = (ctx, reason) => {
      ctx.#expired = reason;
      ctx.#controller?.abort(reason);
    };
    isExpired = (ctx) => ctx.#expired !== undefined;
  }

  constructor(request: RequestView, toolkit: Toolkit) {
    this.request = request;
    this.toolkit = toolkit;
  }

  /** Sets a response header, replacing any value. Ignored once headers are sent. */
  abstract setHeader(name: string, value: string): void;
  /** Adds a value to a response header (`Vary`, `Set-Cookie`). */
  abstract appendHeader(name: string, value: string): void;
  /** Removes a response header (`X-Powered-By`). */
  abstract removeHeader(name: string): void;
  /** Whether the response has started: headers can no longer change. */
  abstract readonly headersSent: boolean;

  /** A value from the per-request store. */
  get<T>(key: ContextKey<T>): T | undefined {
    return this.#store?.get(key) as T | undefined;
  }

  /** Puts a value in the per-request store. */
  set<T>(key: ContextKey<T>, value: T): void {
    (this.#store ??= new Map()).set(key, value);
  }

  /** The request id, once a request id plugin has assigned one. */
  get requestId(): string | undefined {
    return this.get(requestIdKey);
  }

  /** The client IP: the trusted-proxy resolution when the security package set one, else the socket address. */
  get clientIp(): string | undefined {
    return this.get(clientIpKey) ?? this.request.ip;
  }

  /** The authenticated principal's id, when auth resolved one. */
  get principalId(): string | undefined {
    return this.get(principalIdKey);
  }

  /**
   * Aborted when the client goes away before the response is complete, or when the
   * request runs past its deadline (the reason is then a `DeadlineExceededError`): pass
   * it to the work a request starts (`fetch(url, { signal: ctx.signal })`, a query).
   */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#expired !== undefined) this.#controller.abort(this.#expired);
      // Taken after the client left: aborted already.
      else if (this.#ended !== undefined) {
        if (this.#ended.aborted) this.#controller.abort();
      } else this.#watchOnce();
    }
    return this.#controller.signal;
  }

  /**
   * Runs `interceptor` around this request's route handler: it gets `proceed`, which
   * runs the handler (and the interceptors registered after it), and returns the reply
   * to send. A dependency uses it to see the handler's reply before it goes out, or to
   * answer with a reply of its own without running the handler (a stored response
   * replayed). What it throws is answered as a problem. It applies to framework-neutral
   * routes (`defineRoute` on any adapter's `mount`, the node adapter's routes); a handler
   * that writes the framework's response itself never passes through it.
   *
   * @example
   * ```ts
   * const timing = defineDependency({ name: 'timing', resolve: (ctx) => {
   *   ctx.interceptHandler(async (proceed) => {
   *     const started = performance.now();
   *     const reply = (await proceed()) ?? { status: 204 };
   *     return { ...reply, headers: { ...reply.headers, 'server-timing': `app;dur=${performance.now() - started}` } };
   *   });
   * } });
   * ```
   */
  interceptHandler(interceptor: HandlerInterceptor): void {
    if (typeof interceptor !== 'function') {
      throw new TypeError(
        'interceptHandler() takes a function: (proceed) => Promise<Reply | undefined>.',
      );
    }
    (this.#interceptors ??= []).push(interceptor);
  }

  /**
   * The value of a dependency for this request: resolved once, however many
   * dependents ask, with overrides applied. Sync dependencies are not awaited.
   */
  resolve<T>(dependency: Dependency<T>): T | Promise<T> {
    return this.#resolve(dependency) as T | Promise<T>;
  }

  #resolve(dependency: AnyDependency): unknown {
    const memo = (this.#memo ??= new Map());
    const known = memo.get(dependency);
    if (known === RESOLVING) {
      throw new DependencyCycleError(
        findCycle(dependency, this.toolkit.overrides) ?? [dependency.name, dependency.name],
      );
    }
    if (known !== undefined || memo.has(dependency)) return known;
    const effective = this.toolkit.overrides.lookup(dependency);
    const entries = injectEntriesOf(effective);
    let result: unknown;
    if (entries.length === 0) {
      result = effective.resolve(this, NO_VALUES);
    } else {
      // Marked while its injections resolve: meeting the mark again is a cycle (routes are
      // checked when prepared; an override set later can still close one).
      memo.set(dependency, RESOLVING);
      try {
        const values = this.#collect(entries);
        result =
          values instanceof Promise
            ? values.then((v) => effective.resolve(this, v))
            : effective.resolve(this, values);
      } catch (error) {
        memo.delete(dependency);
        throw error;
      }
    }
    if (isPromiseLike(result)) {
      const settled = Promise.resolve(result).then((value) => {
        memo.set(dependency, value);
        this.#registerTeardown(effective, value);
        return value;
      });
      memo.set(dependency, settled);
      return settled;
    }
    memo.set(dependency, result);
    this.#registerTeardown(effective, result);
    return result;
  }

  #registerTeardown(dependency: AnyDependency, value: unknown): void {
    if (dependency.teardown === undefined) return;
    const teardown: Teardown = { dependency, value };
    if (this.#ended !== undefined) {
      // The request ended before this dependency resolved (the client left, or work
      // outlived the response): tear it down now, with the outcome the request ended with.
      void this.#tearDown([teardown], this.#ended, false);
    } else if (this.#teardowns === undefined) {
      this.#teardowns = [teardown];
      this.#watchOnce();
    } else this.#teardowns.push(teardown);
  }

  #watchOnce(): void {
    if (this.#watching) return;
    this.#watching = true;
    this.watchEnd();
  }

  /**
   * Starts watching for the end of the request, once: at arrival when an `onResponse`
   * plugin or the async context needs it, else when something first reads the end (a
   * teardown registered, the signal taken). Adapters that can see the response implement
   * it, and call `AdapterContext.finish` when the response closes.
   */
  protected watchEnd(): void {}

  #collect(entries: Entries): Record<string, unknown> | Promise<Record<string, unknown>> {
    const values: Record<string, unknown> = {};
    let pending: Promise<unknown>[] | undefined;
    for (let i = 0; i < entries.length; i++) {
      const [name, dependency] = entries[i] as readonly [string, AnyDependency];
      let value: unknown;
      try {
        value = this.#resolve(dependency);
      } catch (error) {
        if (pending === undefined) throw error;
        // Earlier dependencies are still running: settle them (never leave a rejection
        // unhandled) and let the first declared failure win, so a guard declared before
        // a validator answers 401 rather than 422.
        return rethrowFirstFailure(pending, error);
      }
      if (isPromiseLike(value)) {
        pending ??= [];
        pending.push(
          Promise.resolve(value).then((v) => {
            values[name] = v;
          }),
        );
      } else {
        values[name] = value;
      }
    }
    if (pending === undefined) return values;
    const started = pending;
    return Promise.all(started).then(
      () => values,
      (error: unknown) => rethrowFirstFailure(started, error),
    );
  }

  /** See {@link finishRequest}. */
  #finish(outcome: EndOutcome): Promise<void> {
    if (this.#ended !== undefined) return DONE;
    this.#ended = outcome;
    if (outcome.aborted) this.#controller?.abort();
    const teardowns = this.#teardowns;
    // Most requests have no teardown: no async frame, no promise of their own.
    if (teardowns === undefined) {
      this.#notifyResponse(outcome);
      return DONE;
    }
    return this.#tearDown(teardowns, outcome, true);
  }

  /** Runs `teardowns` newest first, then (`notify`) the plugins' `onResponse`. */
  async #tearDown(
    teardowns: readonly Teardown[],
    outcome: EndOutcome,
    notify: boolean,
  ): Promise<void> {
    const full: RequestOutcome = {
      status: outcome.status,
      aborted: outcome.aborted,
      error: outcome.error,
      failed: outcome.aborted || outcome.error !== undefined || outcome.status >= 400,
    };
    for (let i = teardowns.length - 1; i >= 0; i--) {
      const { dependency, value } = teardowns[i] as Teardown;
      try {
        await dependency.teardown?.(value, full, this);
      } catch (error) {
        this.toolkit.reportError(error, this, `dependency "${dependency.name}" teardown`);
      }
    }
    if (notify) this.#notifyResponse(outcome);
  }

  #notifyResponse(outcome: EndOutcome): void {
    const runtime = this.toolkit as ToolkitRuntime;
    if (runtime.observesResponses) {
      runtime.notifyResponse(this, {
        status: outcome.status,
        aborted: outcome.aborted,
        error: outcome.error,
        bytes: outcome.bytes ?? 0,
        durationMs: performance.now() - this.startTime,
      });
    }
    if (this.#slot !== undefined) this.#slot.context = undefined;
  }
}
