import { AsyncResource } from 'node:async_hooks';

/**
 * Keeps V8's fast path for `process.nextTick` in a server (a workaround for how V8 treats
 * Node's tick entries, not a feature).
 *
 * Node makes every tick entry with one object literal whose first keys are two symbols,
 * `{ [async_id_symbol]: asyncId, [trigger_async_id_symbol]: triggerAsyncId, ... }`
 * (lib/internal/process/task_queues.js). V8 defines those keys fast only while every entry
 * gets the same hidden classes. In a server that has loaded enough code, those classes are
 * replaced once after start-up: they are collected while no entry is alive, or
 * deprecated when an async id first arrives as a heap number instead of a small integer.
 * The literal's feedback then turns megamorphic, and from then on every tick defines its
 * properties in the runtime (`Runtime_DefineKeyedOwnPropertyInLiteral`). Whether it
 * happens depends on garbage-collection timing; when it does, `nextTick` goes from ~1.5%
 * to ~8-10% of a fastify server's CPU, about 3 µs per request (measured with
 * `pnpm --dir bench bench:profile fastify adapter`; `--log-maps` shows the transitions).
 *
 * Holding one object that starts with the same two keys, both holding doubles, keeps
 * those classes alive and already general enough for any async id, so they are never
 * replaced. The symbols are read from an `AsyncResource`, which carries the same ones;
 * when a Node version has none of them, this does nothing.
 */
let pinned: object | undefined;

/** Pins the hidden classes of Node's tick entries; runs once per process. */
export function pinTickShape(): void {
  if (pinned !== undefined) return;
  const symbols = Object.getOwnPropertySymbols(new AsyncResource('org.core.tick-shape'));
  const asyncId = symbols.find((symbol) => symbol.description === 'async_id_symbol');
  const triggerId = symbols.find((symbol) => symbol.description === 'trigger_async_id_symbol');
  if (asyncId === undefined || triggerId === undefined) {
    pinned = {};
    return;
  }
  // Same number of properties as Node's literal (V8 picks the root class by that count),
  // the two symbols first, ids as doubles.
  pinned = {
    [asyncId]: 0.5,
    [triggerId]: 0.5,
    frame: undefined,
    callback: undefined,
    args: undefined,
  };
}
