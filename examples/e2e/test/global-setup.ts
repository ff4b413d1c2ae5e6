import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The example processes import the built packages (`dist/`), as a user's app would.
 * Before the end-to-end suite, build each package whose `dist` is missing or older
 * than its sources: nothing on a CI run that built first, one build on a fresh clone.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** What the examples import at run time, in build order. */
const PACKAGES = ['core', 'auth', 'security', 'observability'] as const;

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (/\.ts$/.test(entry.name) && !/\.test(-d)?\.ts$/.test(entry.name)) {
      newest = Math.max(newest, statSync(path).mtimeMs);
    }
  }
  return newest;
}

function isStale(name: string): boolean {
  const built = join(ROOT, 'packages', name, 'dist', 'index.js');
  if (!existsSync(built)) return true;
  return newestSource(join(ROOT, 'packages', name, 'src')) > statSync(built).mtimeMs;
}

export default function setup(): void {
  const stale = PACKAGES.filter(isStale);
  if (stale.length === 0) return;
  process.stdout.write(`examples: building ${stale.map((n) => `@org/${n}`).join(', ')}...\n`);
  for (const name of stale) {
    const result = spawnSync('pnpm', ['--filter', `@org/${name}`, 'run', 'build'], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (result.status !== 0) {
      throw new Error(
        `Building @org/${name} failed (${result.error?.message ?? `exit ${result.status}`}); run \`pnpm build\` and see why.`,
      );
    }
  }
}
