import { describe, expect, it } from 'vitest';
import { Context, resolveEntries } from '../context/context.js';
import type { RequestView } from '../context/request-view.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import { createToolkit, type Toolkit, toolkitRuntime } from '../toolkit/toolkit.js';
import { type AnyDependency, DependencyCycleError, defineDependency } from './dependency.js';

/** A context with no request behind it: enough to resolve dependencies. */
class BareContext extends Context {
  constructor(toolkit: Toolkit) {
    super({} as RequestView, toolkit);
  }
  setHeader(): void {}
  appendHeader(): void {}
  removeHeader(): void {}
  get headersSent(): boolean {
    return false;
  }
}

describe('dependency graphs', () => {
  it('rejects an injection that is not a dependency, naming it', () => {
    expect(() =>
      defineDependency({
        name: 'a',
        inject: { b: undefined as unknown as AnyDependency },
        resolve: () => 'a',
      }),
    ).toThrow('Dependency "a" injects "b", which is not a dependency');
  });

  it('detects a cycle introduced by an override', () => {
    const a = defineDependency({ name: 'a', resolve: () => 'a' });
    const b = defineDependency({ name: 'b', inject: { a }, resolve: () => 'b' });
    const toolkit = createToolkit();
    toolkit.overrides.set(a, defineDependency({ name: 'a2', inject: { b }, resolve: () => 'x' }));
    expect(() => toolkitRuntime(toolkit).prepareRoute({ b })).toThrow(/b -> a -> b/);
  });

  it('detects at resolution a cycle an override closes after the route was prepared', async () => {
    let calls = 0;
    const a = defineDependency({ name: 'a', resolve: () => 'a' });
    const b = defineDependency({ name: 'b', inject: { a }, resolve: (_ctx, { a }) => `b(${a})` });
    const c = defineDependency({ name: 'c', inject: { b }, resolve: (_ctx, { b }) => `c(${b})` });
    const toolkit = createToolkit();
    const route = toolkitRuntime(toolkit).prepareRoute({ c });
    toolkit.overrides.set(
      a,
      defineDependency({ name: 'a2', inject: { c }, resolve: () => String(++calls) }),
    );
    const ctx = new BareContext(toolkit);
    const error = (() => {
      try {
        resolveEntries(ctx, route.entries);
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toBeInstanceOf(DependencyCycleError);
    expect((error as DependencyCycleError).cycle).toEqual(['c', 'b', 'a', 'c']);
    expect(calls).toBe(0);
    // Nothing half-resolved stays behind: without the override the same context resolves.
    toolkit.overrides.clear();
    expect(resolveEntries(ctx, route.entries)).toEqual({ c: 'c(b(a))' });
  });

  it('resolves a shared async injection once, and a value of undefined once', async () => {
    let shared = 0;
    let empty = 0;
    const base = defineDependency({ name: 'base', resolve: async () => ++shared });
    const nothing = defineDependency({ name: 'nothing', resolve: () => void empty++ });
    const left = defineDependency({
      name: 'left',
      inject: { base, nothing },
      resolve: (_ctx, { base }) => base + 1,
    });
    const right = defineDependency({
      name: 'right',
      inject: { base, nothing },
      resolve: (_ctx, { base }) => base + 2,
    });
    const toolkit = createToolkit();
    const ctx = new BareContext(toolkit);
    const { entries } = toolkitRuntime(toolkit).prepareRoute({ left, right });
    expect(await resolveEntries(ctx, entries)).toEqual({
      left: 2,
      right: 3,
    });
    expect(await ctx.resolve(base)).toBe(1);
    expect([shared, empty]).toEqual([1, 1]);
  });

  it('rejects bad toolkit options at start-up, naming the option', () => {
    expect(() => createToolkit({ bodyLimit: -1 })).toThrow(/bodyLimit must be a positive integer/);
    expect(() => createToolkit({ maxJsonDepth: 1.5 })).toThrow(/maxJsonDepth/);
    expect(() => createToolkit({ development: 'false' as unknown as boolean })).toThrow(
      /createToolkit: development must be true or false; received "false"/,
    );
    // Removed: tracking is a plugin's decision (Plugin.asyncContext).
    expect(() => createToolkit({ asyncContext: true } as never)).toThrow(
      /asyncContext option was removed/,
    );
  });

  it('gives adapters the runtime of a toolkit createToolkit made, and of no other', () => {
    const toolkit = createToolkit();
    expect(toolkitRuntime(toolkit)).toBe(toolkit);
    expect(typeof toolkitRuntime(toolkit).prepareRoute).toBe('function');
    const copy = { ...toolkit } as Toolkit;
    expect(() => toolkitRuntime(copy)).toThrow(ConfigurationError);
    expect(() => toolkitRuntime(copy)).toThrow(/not made by createToolkit\(\)/);
  });
});
