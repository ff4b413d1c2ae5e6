import { defineConfig, type Options } from 'tsup';

/**
 * The one build recipe of every package: ESM + CJS with `.d.ts`/`.d.cts`, source
 * maps, shared chunks so each subpath imports the same classes, Node 22 syntax.
 */
export function packageConfig(entry: Record<string, string>): Options | Options[] {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: { compilerOptions: { composite: false } },
    sourcemap: true,
    clean: true,
    splitting: true,
    treeshake: true,
    target: 'node22',
    tsconfig: 'tsconfig.build.json',
  }) as Options;
}
