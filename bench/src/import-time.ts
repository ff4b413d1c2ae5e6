// Cold ESM import time of each built entry point, each import in a fresh Node process,
// next to an empty module (the harness) and the dependencies alone.
// Usage: pnpm --dir bench bench:import [runs=15] [--snapshot <dir>] [--before <dir>] [--after <dir>]
//   --snapshot <dir>  copies the current builds into <dir> to measure later, and exits
//   --before <dir>    measures that snapshot too, in the same loop, and compares
//   --after <dir>     measures that snapshot instead of the current builds
// Prints a Markdown table and writes it to results/import-<date>.md.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './runner/measure.ts';
import { table } from './suites/common.ts';

const benchDir = fileURLToPath(new URL('..', import.meta.url));
const packagesDir = fileURLToPath(new URL('../../packages', import.meta.url));
const PACKAGES = ['core', 'auth', 'security', 'observability', 'testing'] as const;
const ENTRIES = [
  '@org/core',
  '@org/core/express',
  '@org/core/fastify',
  '@org/core/koa',
  '@org/core/hono',
  '@org/core/node',
  '@org/core/adapter',
  '@org/auth',
  '@org/security',
  '@org/observability',
  '@org/testing',
  '@org/testing/vitest',
];
/** Each dependency (and the heaviest built-ins) alone, resolved from the package that uses it. */
const DEPENDENCIES = [
  ['node:http', 'core'],
  ['node:crypto', 'core'],
  ['zod', 'core'],
  ['hono/route', 'core'],
  ['jose', 'auth'],
  ['pino', 'observability'],
  ['prom-client', 'observability'],
  ['ioredis', 'security'],
  ['vitest', 'testing'],
] as const;
const EMPTY = 'data:text/javascript,';

interface Target {
  label: string;
  specifier: string;
  /** The directory the specifier resolves from (the child's cwd). */
  cwd: string;
}

interface Samples {
  /** `await import()` timed inside the process. */
  importMs: number[];
  /** CPU time (user + system) of the process during the import: steadier on a busy machine. */
  cpuMs: number[];
  /** The whole process, spawn to exit. */
  processMs: number[];
  files: number;
}

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args.splice(at, 2)[1];
};
const snapshotDir = option('--snapshot');
const beforeDir = option('--before');
const afterDir = option('--after');
const runs = Number(args[0] ?? 15);

if (snapshotDir) {
  snapshot(snapshotDir);
  console.log(`copied the current builds to ${snapshotDir}`);
  process.exit(0);
}

/** The current builds: linked into bench/, except @org/testing, which imports itself. */
const current = ENTRIES.map((specifier) => ({
  label: specifier,
  specifier,
  cwd: afterDir ?? (specifier.startsWith('@org/testing') ? join(packagesDir, 'testing') : benchDir),
}));
const before = beforeDir
  ? ENTRIES.map((specifier) => ({ label: specifier, specifier, cwd: beforeDir }))
  : undefined;
const empty = { label: 'empty module (harness)', specifier: EMPTY, cwd: benchDir };
const dependencies = DEPENDENCIES.map(([specifier, owner]) => ({
  label: specifier,
  specifier,
  cwd: join(packagesDir, owner),
}));

const all = [empty, ...current, ...(before ?? []), ...dependencies];
const samples = new Map<Target, Samples>(
  all.map((target) => [
    target,
    { importMs: [], cpuMs: [], processMs: [], files: countFiles(target) },
  ]),
);
const started = performance.now();
for (let run = 0; run < runs; run++) {
  // Rotate the order so no target always follows the same one.
  const order = all.map((_, at) => all[(at + run) % all.length] as Target);
  for (const target of order) {
    const { importMs, cpuMs, processMs } = importOnce(target);
    const sample = samples.get(target) as Samples;
    sample.importMs.push(importMs);
    sample.cpuMs.push(cpuMs);
    sample.processMs.push(processMs);
  }
}
const seconds = (performance.now() - started) / 1000;

const p90 = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.9) - 1)] as number;
};
const ms = (value: number): string => value.toFixed(1);
const baseline = samples.get(empty) as Samples;
const above = (values: readonly number[], base: readonly number[]): string =>
  `+${ms(median(values) - median(base))}`;
const name = (target: Target): string => (target === empty ? target.label : `\`${target.label}\``);
const header = [
  'import ms',
  'p90',
  'above empty',
  'CPU ms',
  'CPU p90',
  'CPU above empty',
  'process ms',
  'files',
];
const cells = (target: Target): string[] => {
  const sample = samples.get(target) as Samples;
  return [
    ms(median(sample.importMs)),
    ms(p90(sample.importMs)),
    above(sample.importMs, baseline.importMs),
    ms(median(sample.cpuMs)),
    ms(p90(sample.cpuMs)),
    above(sample.cpuMs, baseline.cpuMs),
    ms(median(sample.processMs)),
    String(sample.files),
  ];
};
const entryTable = (title: string, targets: readonly Target[]): string =>
  table(
    [title, ...header],
    [empty, ...targets].map((target) => [name(target), ...cells(target)]),
  );
const change = (values: (sample: Samples) => number[], old: Samples, now: Samples): string => {
  const before = median(values(old));
  const after = median(values(now));
  return `${ms(before)} → ${ms(after)} (${after > before ? '+' : ''}${ms(after - before)})`;
};

const sections: string[] = [];
if (before) {
  sections.push(
    table(
      ['entry', 'import ms, median', 'CPU ms, median', 'CPU ms, p90', 'files'],
      current.map((target, at) => {
        const old = samples.get(before[at] as Target) as Samples;
        const now = samples.get(target) as Samples;
        return [
          name(target),
          change((sample) => sample.importMs, old, now),
          change((sample) => sample.cpuMs, old, now),
          `${ms(p90(old.cpuMs))} → ${ms(p90(now.cpuMs))}`,
          `${old.files} → ${now.files}`,
        ];
      }),
    ),
  );
}
sections.push(entryTable(before ? 'after: entry' : 'entry', current));
if (before) sections.push(entryTable('before: entry', before));
sections.push(entryTable('dependency alone', dependencies));

const date = new Date().toISOString().slice(0, 10);
const report = [
  `# Cold import time, ${date}`,
  '',
  `Node ${process.version}, ${availableParallelism()} CPUs, load average ${loadavg()
    .map((value) => value.toFixed(1))
    .join(
      ' ',
    )} at the end; ${runs} fresh processes per row, rows interleaved, ${seconds.toFixed(0)} s in all.`,
  '"import ms" is `await import()` timed inside the process (median, p90); "CPU ms" the CPU time',
  '(user + system) the process spent in that import, which moves far less than the clock when',
  'other processes share the cores; "process ms" is the whole process from spawn to exit, Node\'s',
  'start-up included; "files" counts the modules loaded (not Node\'s built-ins).',
  before
    ? `"before" is the snapshot in \`${beforeDir}\`, "after" ${afterDir ? `the one in \`${afterDir}\`` : 'the current builds'}.`
    : '',
  '',
  sections.join('\n\n'),
  '',
].join('\n');
console.log(report);
mkdirSync(join(benchDir, 'results'), { recursive: true });
let file = join(benchDir, 'results', `import-${date}.md`);
for (let n = 2; existsSync(file); n++)
  file = join(benchDir, 'results', `import-${date}-run${n}.md`);
await writeFile(file, report);
console.log(`written to ${file}`);

function child(target: Target, code: string): string {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: target.cwd,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`${target.label}: ${result.stderr}`);
  return result.stdout;
}

function importOnce(target: Target): { importMs: number; cpuMs: number; processMs: number } {
  const spec = JSON.stringify(target.specifier);
  const startedAt = performance.now();
  const output = child(
    target,
    `const c = process.cpuUsage(); const t = performance.now(); await import(${spec}); ` +
      'const ms = performance.now() - t; const { user, system } = process.cpuUsage(c); ' +
      "process.stdout.write(ms + ' ' + (user + system) / 1000); process.exit(0);",
  );
  const [importMs, cpuMs] = output.split(' ').map(Number) as [number, number];
  return { importMs, cpuMs, processMs: performance.now() - startedAt };
}

/** Modules the import loads (files, not Node's built-ins), counted in one extra process. */
function countFiles(target: Target): number {
  const spec = JSON.stringify(target.specifier);
  const output = child(
    target,
    "import { registerHooks } from 'node:module'; let files = 0; " +
      "registerHooks({ load(url, context, next) { if (url.startsWith('file:')) files++; return next(url, context); } }); " +
      `await import(${spec}); process.stdout.write(String(files)); process.exit(0);`,
  );
  return Number(output);
}

/**
 * Copies each package's manifest and dist into <dir>/node_modules/@org, and links its
 * dependencies (as resolved from the package) beside them, so <dir> resolves like bench/.
 */
function snapshot(dir: string): void {
  for (const name of PACKAGES) {
    const from = join(packagesDir, name);
    const to = join(dir, 'node_modules', '@org', name);
    mkdirSync(to, { recursive: true });
    cpSync(join(from, 'package.json'), join(to, 'package.json'));
    cpSync(join(from, 'dist'), join(to, 'dist'), { recursive: true });
    const manifest = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
    };
    const names = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies });
    for (const dependency of names.filter((each) => !each.startsWith('@org/'))) {
      const link = join(dir, 'node_modules', dependency);
      const source = join(from, 'node_modules', dependency);
      if (existsSync(link) || !existsSync(source)) continue;
      mkdirSync(join(link, '..'), { recursive: true });
      symlinkSync(realpathSync(source), link);
    }
  }
}
