#!/usr/bin/env node
// `pnpm start`: builds the packages the examples import when their dist is missing or
// older than their sources, then runs an example (express unless named) on the
// embedded defaults: SQLite in memory, no Redis, port 3000. Usage:
//   pnpm start            # examples/express
//   pnpm start fastify    # examples/fastify (koa, hono, node-http, nest too)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const example = process.argv[2] ?? 'express';
const dir = join(root, 'examples', example);
if (!existsSync(join(dir, 'src', 'main.ts'))) {
  console.error(
    `No example named "${example}": try express, fastify, koa, hono, node-http or nest.`,
  );
  process.exit(1);
}

const newestSource = (path) =>
  readdirSync(path, { withFileTypes: true }).reduce((newest, entry) => {
    const child = join(path, entry.name);
    if (entry.isDirectory()) return Math.max(newest, newestSource(child));
    return /(?<!\.test(-d)?)\.ts$/.test(entry.name)
      ? Math.max(newest, statSync(child).mtimeMs)
      : newest;
  }, 0);
const isStale = (name) => {
  const built = join(root, 'packages', name, 'dist', 'index.js');
  return (
    !existsSync(built) ||
    newestSource(join(root, 'packages', name, 'src')) > statSync(built).mtimeMs
  );
};

// In build order: the others import @org/core.
const stale = ['core', 'auth', 'security', 'observability'].filter(isStale);
if (stale.length > 0) {
  console.log(
    `Building the ${stale.length} toolkit package(s) the example imports (ESM, CommonJS and types; later starts skip this):`,
  );
}
for (const [index, name] of stale.entries()) {
  const started = performance.now();
  process.stdout.write(`  [${index + 1}/${stale.length}] @org/${name} ... `);
  const built = spawnSync('pnpm', ['--filter', `@org/${name}`, 'run', 'build'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (built.status !== 0) {
    console.error(`\nBuilding @org/${name} failed; run \`pnpm build\` to see why.`);
    process.exit(1);
  }
  console.log(`built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

console.log(`Starting examples/${example} (Ctrl-C stops it)...`);
const child = spawn(process.execPath, ['src/main.ts'], {
  cwd: dir,
  stdio: 'inherit',
  // On a laptop nothing needs the 5 s a load balancer does to stop sending traffic.
  env: { SHUTDOWN_DELAY_MS: '0', ...process.env },
});
// Ctrl-C reaches the example from the terminal itself; a SIGTERM sent to this script is
// passed on. Either way the example drains, and this script leaves with its exit code.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 0 : 1)));
