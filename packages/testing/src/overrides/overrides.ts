import type { AnyDependency, Dependency, DependencyOverrides, Override } from '@org/core';

/** Anything that carries app-wide overrides: a `Toolkit` from `createToolkit`. */
export interface HasOverrides {
  /** The toolkit's `dependency_overrides`. */
  readonly overrides: DependencyOverrides;
}

/** One replacement: the dependency, and what resolves in its place. */
export type OverrideEntry<T> = readonly [dependency: Dependency<T>, replacement: Override<T>];

/**
 * Checks each `[dependency, replacement]` pair on its own: the replacement must
 * produce what its dependency produces.
 */
export type OverrideEntries<E extends readonly unknown[]> = {
  readonly [K in keyof E]: E[K] extends readonly [Dependency<infer T>, unknown]
    ? OverrideEntry<T>
    : never;
};

/** A replacement in force until it is disposed or restored. */
export interface OverrideHandle extends Disposable {
  /** Puts back what was there before (the original, or an earlier override). Idempotent. */
  restore(): void;
}

/**
 * Replaces `dependency` on every request of `toolkit` until the returned handle is
 * disposed: FastAPI's `app.dependency_overrides[dep] = replacement`, with the
 * restore built in.
 *
 * @example
 * ```ts
 * it('shows the profile', async () => {
 *   using _user = overrideDependency(toolkit, auth.currentUser, () => ({ id: 'u1', name: 'Ann' }));
 *   const res = await api.get('/api/v1/users/me');
 *   expect(res.body).toMatchObject({ name: 'Ann' });
 * }); // restored here, even when the test fails
 * ```
 */
export function overrideDependency<T>(
  toolkit: HasOverrides,
  dependency: Dependency<T>,
  replacement: Override<T>,
): OverrideHandle {
  return toolkit.overrides.override(dependency, replacement);
}

/**
 * Applies every `[dependency, replacement]` pair while `fn` runs (awaited), then
 * restores what was there before, even when `fn` throws.
 *
 * FastAPI, for comparison:
 * ```py
 * app.dependency_overrides[get_current_user] = lambda: fake_user
 * try: ...
 * finally: app.dependency_overrides.clear()
 * ```
 * Overrides are app-wide, as in FastAPI: requests made concurrently from other
 * tests of the same toolkit see them too. Give each test file its own toolkit, or
 * run overriding tests sequentially.
 *
 * @example
 * ```ts
 * await withOverrides(toolkit, [
 *   [auth.currentUser, () => admin],
 *   [userRepository, () => new InMemoryUsers(fixtures)],
 * ], async () => {
 *   expect((await api.get('/api/v1/users')).status).toBe(200);
 * });
 * ```
 */
export function withOverrides<const E extends readonly (readonly [AnyDependency, unknown])[], R>(
  toolkit: HasOverrides,
  entries: E & OverrideEntries<E>,
  fn: () => R | Promise<R>,
): Promise<R> {
  return toolkit.overrides.run(entries as readonly OverrideEntry<unknown>[] as never, fn);
}
