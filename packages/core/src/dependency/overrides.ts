import type { AnyDependency, Dependency } from './dependency.js';

/** A replacement: another dependency, or a function of the context producing the value. */
export type Override<T> =
  | Dependency<T>
  | ((...args: Parameters<Dependency<T>['resolve']>) => T | Promise<T>);

function toDependency<T>(original: Dependency<T>, replacement: Override<T>): Dependency<T> {
  if (typeof replacement !== 'function') return replacement;
  const dependency: Dependency<T> & { injectEntries: readonly [] } = {
    name: `${original.name} (override)`,
    inject: {},
    injectEntries: [],
    resolve: replacement,
    teardown: undefined,
  };
  return Object.freeze(dependency);
}

/**
 * Dependency overrides, like FastAPI's `app.dependency_overrides`: every request of
 * the toolkit resolves the replacement wherever the original is used.
 *
 * @example
 * ```ts
 * toolkit.overrides.set(currentUser, () => ({ id: 'u1', roles: ['admin'] }));
 * {
 *   using _ = toolkit.overrides.override(userRepository, () => fixtures); // restored at block end
 * }
 * ```
 */
export class DependencyOverrides {
  readonly #active = new Map<AnyDependency, AnyDependency>();

  /** Replaces `original` app-wide until {@link DependencyOverrides.delete} or {@link DependencyOverrides.clear}. */
  set<T>(original: Dependency<T>, replacement: Override<T>): this {
    this.#active.set(original, toDependency(original, replacement));
    return this;
  }

  /** Removes the override of `original`. */
  delete(original: AnyDependency): boolean {
    return this.#active.delete(original);
  }

  /** Removes every override. */
  clear(): void {
    this.#active.clear();
  }

  /**
   * Replaces `original` until the returned handle is disposed (`using`) or
   * `restore()`d; the previous override, if any, comes back then.
   */
  override<T>(
    original: Dependency<T>,
    replacement: Override<T>,
  ): Disposable & {
    /** Puts back what was there before; the same as disposing the handle. Safe to call twice. */
    restore(): void;
  } {
    const previous = this.#active.get(original);
    this.set(original, replacement);
    let restored = false;
    const restore = () => {
      if (restored) return;
      restored = true;
      if (previous === undefined) this.#active.delete(original);
      else this.#active.set(original, previous);
    };
    return { restore, [Symbol.dispose]: restore };
  }

  /** Applies `overrides` while `fn` runs (awaited), then restores what was there before. */
  async run<R>(
    overrides: ReadonlyArray<readonly [AnyDependency, Override<unknown>]>,
    fn: () => R | Promise<R>,
  ): Promise<R> {
    const handles = overrides.map(([original, replacement]) =>
      this.override(original, replacement),
    );
    try {
      return await fn();
    } finally {
      for (const handle of handles.reverse()) handle.restore();
    }
  }

  /** @internal the dependency to resolve in place of `original`. */
  lookup(original: AnyDependency): AnyDependency {
    return this.#active.size === 0 ? original : (this.#active.get(original) ?? original);
  }
}
