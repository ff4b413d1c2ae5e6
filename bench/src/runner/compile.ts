// Compiles the server sources to plain JavaScript before a run. Node runs .ts files by
// loading its type stripper (amaro) into the process, which adds about 17 MiB of RSS
// to every server; a deployed service runs compiled JavaScript, so the peak-RSS
// columns must not carry it.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as nodeModule from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

type Strip = (code: string, options: { mode: 'strip' }) => string;

/** Relative specifiers ending in .ts, static or template: `'./a.ts'`, `` `./http/${x}.ts` ``. */
const RELATIVE_TS = /(\.{1,2}\/[^'"`\s]*?)\.ts(['"`])/g;

async function* files(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

/**
 * Writes `source`'s .ts files as .mjs under `target` (inside bench/node_modules, so
 * bare specifiers still resolve from bench/) and returns `target`.
 */
export async function compileTree(source: string, target: string): Promise<string> {
  const strip = (nodeModule as unknown as { stripTypeScriptTypes: Strip }).stripTypeScriptTypes;
  await rm(target, { recursive: true, force: true });
  for await (const file of files(source)) {
    const code = strip(await readFile(file, 'utf8'), { mode: 'strip' }).replace(
      RELATIVE_TS,
      '$1.mjs$2',
    );
    const out = join(target, relative(source, file)).replace(/\.ts$/, '.mjs');
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, code);
  }
  return target;
}

/** Compiles bench/src/servers into the bench's cache; every runner entry point uses this one place. */
export function compileServers(): Promise<string> {
  const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
  return compileTree(here('../servers'), here('../../node_modules/.cache/org-bench/servers'));
}
