// Checks the tarball `pnpm pack` makes of the package in the current directory, the
// one `pnpm publish` uploads (npm's pack would leave `workspace:` ranges in it):
// publint --strict and attw on that tarball, and a manifest without `workspace:`
// ranges or workspace-private packages in any dependency field.
// Usage (from a package directory): node ../../scripts/check-package.mjs
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dependencyFields = [
  'dependencies',
  'peerDependencies',
  'devDependencies',
  'optionalDependencies',
];
const run = (command, args, options = {}) =>
  execFileSync(command, args, { stdio: 'inherit', ...options });

/** Names of the workspace's private packages (never published, so never a dependency). */
function privatePackageNames() {
  const projects = JSON.parse(
    execFileSync('pnpm', ['-r', 'list', '--depth', '-1', '--json'], { encoding: 'utf8' }),
  );
  return new Set(projects.filter((project) => project.private).map((project) => project.name));
}

/** Problems of a packed manifest: `workspace:` ranges and private packages. */
export function manifestProblems(manifest, privateNames) {
  const problems = [];
  for (const field of dependencyFields) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      if (String(range).startsWith('workspace:')) problems.push(`${field}.${name} is "${range}"`);
      if (privateNames.has(name)) problems.push(`${field}.${name} is a private workspace package`);
    }
  }
  return problems;
}

const destination = mkdtempSync(join(tmpdir(), 'org-check-package-'));
try {
  run('pnpm', ['pack', '--pack-destination', destination], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const tarball = readdirSync(destination).find((file) => file.endsWith('.tgz'));
  if (!tarball) throw new Error(`pnpm pack left no tarball in ${destination}`);
  const path = join(destination, tarball);

  run('tar', ['-xzf', path, '-C', destination]);
  const manifest = JSON.parse(readFileSync(join(destination, 'package', 'package.json'), 'utf8'));
  const problems = manifestProblems(manifest, privatePackageNames());
  if (problems.length > 0) {
    console.error(
      `${manifest.name}: the packed package.json is not installable:\n  ${problems.join('\n  ')}`,
    );
    process.exitCode = 1;
  } else {
    console.log(`${manifest.name}: packed manifest has no workspace: ranges or private packages`);
  }

  run('pnpm', ['exec', 'publint', '--strict', '--pack', 'pnpm']);
  run('pnpm', ['exec', 'attw', path]);
} catch (error) {
  console.error(error.message);
  process.exitCode = 1;
} finally {
  rmSync(destination, { recursive: true, force: true });
}
