import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: { compilerOptions: { composite: false } },
  sourcemap: true,
  clean: true,
  splitting: true,
  treeshake: true,
  target: 'node22',
  tsconfig: 'tsconfig.build.json',
});
