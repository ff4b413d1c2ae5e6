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
    // Maps for stack traces and profiles, without a copy of the sources inside: that copy
    // was about 60% of each package's unpacked size.
    sourcemap: true,
    esbuildOptions(options) {
      options.sourcesContent = false;
    },
    clean: true,
    splitting: true,
    treeshake: true,
    target: 'node22',
    tsconfig: 'tsconfig.build.json',
  }) as Options;
}
