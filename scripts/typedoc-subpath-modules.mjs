/**
 * A typedoc plugin: in a package with several entry points (`@org/core` and its
 * adapters, `@org/testing` and `@org/testing/vitest`), names each entry module after
 * the import path users write, so the reference says `@org/core/express` where typedoc
 * would say `adapters/express`. The name follows the package's layout, the same one
 * its tsup entries use:
 *
 * - `src/index.ts` is the package itself (`@org/core`);
 * - `src/<dir>/.../<name>/index.ts` is the subpath `<name>` (`@org/core/express`);
 * - `src/<name>.ts` is the subpath `<name>` (`@org/testing/vitest`).
 *
 * scripts/check-docs.mjs then proves every `exports` subpath of every package.json has
 * its page, so a new subpath cannot be left out of the reference unnoticed.
 */
import { Converter, ReflectionKind } from 'typedoc';

/** The import path of the module whose entry file is `packagePath` in `packageName`. */
export function moduleName(packageName, packagePath) {
  const path = packagePath.replace(/\.[cm]?tsx?$/, '');
  if (path === 'src/index') return packageName;
  const segments = path.split('/');
  const last = segments.at(-1) === 'index' ? segments.at(-2) : segments.at(-1);
  return `${packageName}/${last}`;
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    const { project } = context;
    for (const module of project.getReflectionsByKind(ReflectionKind.Module)) {
      if (module.parent !== project) continue; // only entry modules, never namespaces
      const id = project.getSymbolIdFromReflection(module);
      if (id?.packageName === undefined || id.packagePath === undefined) continue;
      module.name = moduleName(id.packageName, id.packagePath);
    }
  });
}
