#!/usr/bin/env node
// The public surface of every package, one Markdown report each (packages/<name>/api.md),
// so a change of an exported name, signature or member shows in review. Built with the
// TypeScript compiler's own API from the sources of each entry point in tsup.config.ts.
//   node scripts/api-report.mjs          rewrite the reports
//   node scripts/api-report.mjs --check  fail when a report is out of date (CI)
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const root = new URL('..', import.meta.url).pathname;
const check = process.argv.includes('--check');
const FORMAT = ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.WriteArrowStyleSignature;

/** A union of string literals, sorted: TypeScript prints them in the order the program met them. */
const sortLiterals = (text) =>
  text.replace(/"[^"]*"(?: \| "[^"]*")+/g, (union) => union.split(' | ').sort().join(' | '));

/** Type text without the file paths TypeScript prints for types it cannot name locally. */
const clean = (text) => sortLiterals(text.replace(/import\("[^"]*"\)\./g, ''));

/** A property's name; a unique symbol's (`__@NAME@123`) without its per-program id. */
const nameOf = (symbol) => symbol.name.replace(/^__@(.+)@\d+$/, '[$1]');

/** Whether a declaration comes from a dependency (Error's statics), not from our sources. */
const isForeign = (declaration) => declaration.getSourceFile().fileName.includes('/node_modules/');

/** `{ index: 'src/index.ts', express: 'src/adapters/express/index.ts' }` from a tsup config. */
function entriesOf(dir) {
  const text = readFileSync(join(dir, 'tsup.config.ts'), 'utf8');
  return [...text.matchAll(/(\w+):\s*'(src\/[^']+)'/g)].map(([, name, file]) => ({
    subpath: name === 'index' ? '.' : `./${name}`,
    file: join(dir, file),
  }));
}

const packages = readdirSync(join(root, 'packages')).map((name) => ({
  name: JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8')).name,
  dir: join(root, 'packages', name),
}));
for (const pkg of packages) pkg.entries = entriesOf(pkg.dir);

const config = ts.getParsedCommandLineOfConfigFile(
  join(root, 'tsconfig.json'),
  {},
  { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
);
const program = ts.createProgram(
  packages.flatMap((pkg) => pkg.entries.map((entry) => entry.file)),
  config.options,
);
const checker = program.getTypeChecker();

const kindOf = (flags) =>
  flags & ts.SymbolFlags.Class
    ? 'class'
    : flags & ts.SymbolFlags.Interface
      ? 'interface'
      : flags & ts.SymbolFlags.TypeAlias
        ? 'type'
        : flags & ts.SymbolFlags.Function
          ? 'function'
          : flags & ts.SymbolFlags.Enum
            ? 'enum'
            : 'const';

/** The public members of a class or interface, one line each. */
function members(symbol, declaration) {
  const lines = [];
  const type = checker.getDeclaredTypeOfSymbol(symbol);
  const own = [...checker.getPropertiesOfType(type)];
  if (symbol.flags & ts.SymbolFlags.Class) {
    const statics = checker.getTypeOfSymbolAtLocation(symbol, declaration);
    for (const property of checker.getPropertiesOfType(statics)) {
      if (property.name !== 'prototype') own.push(Object.assign(property, { isStatic: true }));
    }
    for (const signature of statics.getConstructSignatures()) {
      lines.push(`  new ${clean(checker.signatureToString(signature, undefined, FORMAT))}`);
    }
  }
  for (const property of own) {
    const decl = property.valueDeclaration ?? property.declarations?.[0];
    if (decl === undefined || isForeign(decl)) continue;
    const modifiers = ts.getCombinedModifierFlags(decl);
    if (modifiers & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
    if (property.name.startsWith('#') || property.name.startsWith('__#')) continue;
    const typeText = clean(
      checker.typeToString(checker.getTypeOfSymbolAtLocation(property, decl), undefined, FORMAT),
    );
    const readonly = modifiers & ts.ModifierFlags.Readonly ? 'readonly ' : '';
    const optional = property.flags & ts.SymbolFlags.Optional ? '?' : '';
    const stat = property.isStatic ? 'static ' : '';
    lines.push(`  ${stat}${readonly}${nameOf(property)}${optional}: ${typeText}`);
  }
  return lines.sort();
}

function describe(exported) {
  const symbol =
    exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  const declaration = symbol.declarations?.[0];
  const kind = kindOf(symbol.flags);
  if (declaration === undefined) return [`${kind} ${exported.name}`];
  switch (kind) {
    case 'class':
    case 'interface':
      return [`${kind} ${exported.name}`, ...members(symbol, declaration)];
    case 'type':
      return [
        `type ${exported.name} = ${clean(checker.typeToString(checker.getDeclaredTypeOfSymbol(symbol), undefined, FORMAT | ts.TypeFormatFlags.InTypeAlias))}`,
      ];
    case 'function':
      return checker
        .getTypeOfSymbolAtLocation(symbol, declaration)
        .getCallSignatures()
        .map(
          (signature) =>
            `function ${exported.name}${clean(checker.signatureToString(signature, undefined, FORMAT))}`,
        );
    default:
      return [
        `${kind} ${exported.name}: ${clean(checker.typeToString(checker.getTypeOfSymbolAtLocation(symbol, declaration), undefined, FORMAT))}`,
      ];
  }
}

let stale = 0;
for (const pkg of packages) {
  const out = [
    `# API report: ${pkg.name}`,
    '',
    'Generated by `node scripts/api-report.mjs`; CI fails when it is out of date. Review',
    'every change here as a change of the public API.',
  ];
  for (const entry of pkg.entries) {
    const source = program.getSourceFile(entry.file);
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    if (moduleSymbol === undefined) throw new Error(`api-report: cannot read ${entry.file}`);
    const exports = checker
      .getExportsOfModule(moduleSymbol)
      .sort((a, b) => a.name.localeCompare(b.name));
    out.push(
      '',
      `## \`${entry.subpath === '.' ? pkg.name : `${pkg.name}/${entry.subpath.slice(2)}`}\``,
      '',
    );
    out.push(`${exports.length} exports.`, '', '```ts');
    for (const exported of exports) out.push(...describe(exported));
    out.push('```');
  }
  const text = `${out.join('\n')}\n`;
  const file = join(pkg.dir, 'api.md');
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {}
  if (current === text) continue;
  if (check) {
    console.error(
      `api-report: ${file} is out of date: run node scripts/api-report.mjs and review the diff.`,
    );
    stale++;
  } else {
    writeFileSync(file, text);
    console.log(`api-report: wrote ${file}`);
  }
}
if (stale > 0) process.exit(1);
