#!/usr/bin/env node
// Installs the packages as a user outside the monorepo gets them: packs each with pnpm
// (as `pnpm publish` would), installs the tarballs with npm into a temporary project,
// then for each fixture under consumer/ (ESM with "module": "nodenext", CommonJS with
// require, CommonJS with "module": "node16") typechecks a program importing every
// entry point (strict, the workspace's TypeScript) and runs it on each given Node.
// Then the docs as tests: the marked code blocks of the guides and READMEs
// (scripts/docs-to-tests.mjs) become the project consumer/docs, typechecked strictly
// and run by consumer/docs/run.mjs on each given Node.
// Needs `pnpm build` first.
//   node scripts/consumer-check.mjs [--node /path/to/node]... [--keep]
// --node: run the programs on these (default: this node); --keep: leave the temp dir.
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeTests } from './docs-to-tests.mjs';

const root = new URL('..', import.meta.url).pathname;
const packages = ['core', 'auth', 'security', 'observability', 'testing'];
/** Optional peers (frameworks, ioredis, vitest) and types, at the versions the workspace tests with. */
const thirdParty = [
  'express',
  'fastify',
  'koa',
  '@koa/router',
  'hono',
  '@hono/node-server',
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/websockets',
  '@nestjs/platform-ws',
  '@fastify/websocket',
  'reflect-metadata',
  'rxjs',
  'ioredis',
  'vitest',
  '@types/express',
  '@types/koa',
  '@types/koa__router',
  '@types/node',
  // ioredis 6.1's declarations import redis-errors, which ships none (strict projects
  // without skipLibCheck need these, as the READMEs say).
  '@types/redis-errors',
];
const fixtures = [
  // consumer/program.ts, compiled by tsc under each project's settings.
  { name: 'esm-nodenext', sharedProgram: true, run: 'out/program.js' },
  // consumer/cjs-require/program.cjs, checked by tsc (checkJs) and run as it is.
  { name: 'cjs-require', sharedProgram: false, run: 'program.cjs' },
  { name: 'cjs-node16', sharedProgram: true, run: 'out/program.js' },
];

const { values } = parseArgs({
  options: { node: { type: 'string', multiple: true }, keep: { type: 'boolean' } },
});
const nodes = values.node ?? [process.execPath];
const started = performance.now();
const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
const run = (command, args, cwd) => execFileSync(command, args, { cwd, stdio: 'inherit' });
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)}s`;

/** Runs `args` in `cwd` on every node, each even when another failed; true when all passed. */
function runOnEachNode(label, args, cwd) {
  let passed = true;
  for (const node of nodes) {
    const at = performance.now();
    try {
      run(node, args, cwd);
    } catch {
      console.error(`${label}: FAILED on ${node}`);
      passed = false;
    }
    console.log(`${label} on ${node}: ${((performance.now() - at) / 1000).toFixed(0)}s`);
  }
  return passed;
}

/** The version the workspace pins for `name`, from the root's or a package's devDependencies. */
function pinnedVersion(name) {
  for (const manifest of [
    'package.json',
    'packages/core/package.json',
    'packages/testing/package.json',
  ]) {
    const version = readJson(join(root, manifest)).devDependencies?.[name];
    if (version !== undefined) return version;
  }
  throw new Error(`no pinned version of ${name} in the workspace`);
}

for (const name of packages) {
  if (!existsSync(join(root, 'packages', name, 'dist'))) {
    console.error(`packages/${name}/dist is missing: run pnpm build first`);
    process.exit(1);
  }
}

const work = mkdtempSync(join(tmpdir(), 'org-consumer-'));
let failures = 0;
try {
  const tarballs = join(work, 'tarballs');
  run('pnpm', ['-r', '--filter', './packages/*', 'pack', '--pack-destination', tarballs], root);
  const dependencies = Object.fromEntries(thirdParty.map((name) => [name, pinnedVersion(name)]));
  for (const file of readdirSync(tarballs).filter((entry) => entry.endsWith('.tgz'))) {
    const name = file.replace(/^org-(.+)-\d+\.\d+\.\d+.*\.tgz$/, '@org/$1');
    dependencies[name] = `file:${join(tarballs, file)}`;
  }
  // One install for the three projects below it: each has its own package.json `type`.
  const project = join(work, 'project');
  cpSync(join(root, 'consumer'), project, { recursive: true });
  writeFileSync(
    join(project, 'package.json'),
    `${JSON.stringify({ name: 'org-consumer', private: true, dependencies }, null, 2)}\n`,
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], project);
  console.log(`packed and installed (${elapsed()})`);

  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  for (const fixture of fixtures) {
    const dir = join(project, fixture.name);
    if (fixture.sharedProgram) cpSync(join(project, 'program.ts'), join(dir, 'program.ts'));
    try {
      run(process.execPath, [tsc, '-p', 'tsconfig.json'], dir);
      console.log(`${fixture.name}: typechecks`);
      if (!runOnEachNode(fixture.name, [fixture.run], dir)) throw new Error('failed');
    } catch {
      console.error(`${fixture.name}: FAILED`);
      failures += 1;
    }
  }

  // Docs as tests: its own package.json (ESM), and the shared install through a link,
  // so `npx org-auth` in a guide's shell steps finds the packed bin.
  const docs = join(project, 'docs');
  const docsStarted = performance.now();
  try {
    console.log(`docs: ${writeTests(docs).length} files from the guides and READMEs`);
    symlinkSync('../node_modules', join(docs, 'node_modules'));
    run(process.execPath, [tsc, '-p', 'tsconfig.json'], docs);
    console.log('docs: typechecks');
    if (!runOnEachNode('docs', ['run.mjs'], docs)) throw new Error('failed');
  } catch {
    console.error('docs: FAILED');
    failures += 1;
  }
  const docsSeconds = ((performance.now() - docsStarted) / 1000).toFixed(0);
  console.log(`docs as tests: ${docsSeconds}s`);
} finally {
  if (values.keep) console.log(`left ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
console.log(
  `consumer check: ${fixtures.length + 1 - failures}/${fixtures.length + 1} fixtures passed in ${elapsed()}`,
);
process.exitCode = failures > 0 ? 1 : 0;
