import type { Options } from 'tsup';
import { packageConfig } from '../../tsup.base.ts';

/**
 * The `org-auth` bin imports the package's entry (`../index.js` in its sources) as
 * `@org/auth`, the package's own name: Node resolves it to the installed package, so
 * the bin ships no second copy of the library and sees only its public API.
 */
const ownEntryAsPackage: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'own-entry-as-package',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/index\.js$/ }, (args) =>
      args.importer.includes('/src/cli/') ? { path: '@org/auth', external: true } : undefined,
    );
  },
};

const library = packageConfig({ index: 'src/index.ts' }) as Options;

const config: Options[] = [
  // The bin is written by the build below, at the same time: cleaning must spare it.
  { ...library, clean: ['!org-auth.js', '!org-auth.js.map'] },
  {
    entry: ['src/cli/org-auth.ts'],
    format: ['esm'],
    dts: false,
    sourcemap: true,
    esbuildOptions(options) {
      options.sourcesContent = false;
    },
    clean: false,
    target: 'node22',
    tsconfig: 'tsconfig.build.json',
    esbuildPlugins: [ownEntryAsPackage],
  },
];

export default config;
