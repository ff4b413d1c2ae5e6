// The stacks servers/core.ts serves, in a module of their own: core.ts starts a server
// when imported, and the runners (bench:profile, bench:inproc) only need the names.

/** The adapter variants: the toolkit's defaults, and a plugin declaring `asyncContext: true`. */
export const ADAPTER_VARIANTS: readonly string[] = ['adapter', 'adapter-tracked'];

/** Every stack of servers/core.ts besides bare; every other stack is servers/http.ts's. */
export const CORE_STACKS: ReadonlySet<string> = new Set(['hook', ...ADAPTER_VARIANTS]);
