#!/usr/bin/env node
// Lints the examples' API document with @redocly/cli's recommended rules: starts the
// node:http example on a free port, fetches /openapi.json, and runs `redocly lint`.
// Fails on any error; warnings are printed. Needs `pnpm build` first. @redocly/cli is
// a CI tool, not a workspace dependency: it is installed (pinned) into .ci/.toolchain.
//   node scripts/lint-openapi.mjs
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const REDOCLY_VERSION = '2.77.0';
const root = new URL('..', import.meta.url).pathname;
const prefix = join(root, '.ci/.toolchain/redocly');
const redocly = join(prefix, 'node_modules/.bin/redocly');

if (!existsSync(redocly)) {
  mkdirSync(prefix, { recursive: true });
  execFileSync(
    'npm',
    [
      'install',
      '--prefix',
      prefix,
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      `@redocly/cli@${REDOCLY_VERSION}`,
    ],
    { stdio: 'inherit' },
  );
}

/** Starts the example and resolves with its base URL, read from its "listening" log line. */
function startExample() {
  const child = spawn(process.execPath, ['src/main.ts'], {
    cwd: join(root, 'examples/node-http'),
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the example did not listen in 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`the example exited with ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const found = /"url":"(http:\/\/[^"]+)"/.exec(line);
      if (found === null) return;
      clearTimeout(timer);
      resolve(found[1]);
    });
  });
  return { child, url };
}

const { child, url } = startExample();
const dir = mkdtempSync(join(tmpdir(), 'openapi-lint-'));
try {
  const response = await fetch(`${await url}/openapi.json`);
  if (!response.ok) throw new Error(`GET /openapi.json answered ${response.status}`);
  const file = join(dir, 'openapi.json');
  writeFileSync(file, await response.text());
  // Exits non-zero on any error of the recommended ruleset.
  execFileSync(redocly, ['lint', '--extends=recommended', '--format=stylish', file], {
    stdio: 'inherit',
  });
} finally {
  child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
