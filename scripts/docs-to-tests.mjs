#!/usr/bin/env node
// Docs as tests: copies the marked code blocks of the guides and package READMEs into
// files of the consumer project consumer/docs, where scripts/consumer-check.mjs
// typechecks them and runs them against the packed packages.
//
// A block is marked by an HTML comment on the line before its fence (GitHub and typedoc
// show neither the comment nor anything else of the mark):
//
//   <!-- test: getting-started/app/auth.ts -->
//   <!-- test: fastapi/depends.ts prelude: preludes/fastapi.ts -->
//
// The path is relative to the output directory. Blocks that name the same file are
// joined in the order of the page; a prelude (a file of consumer/docs) is written before
// the block, for the names a fragment uses without defining them.
//   node scripts/docs-to-tests.mjs <output dir>   write the files (the consumer project)
//   node scripts/docs-to-tests.mjs --list         print what each page contributes
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const MARK = /^<!--\s*test:\s*(\S+)(?:\s+prelude:\s*(\S+))?\s*-->\s*$/;
const FENCE = /^(`{3,})(\w*)\s*$/;

/** The Markdown files whose marked blocks are extracted. */
export function documentFiles() {
  const guides = readdirSync(join(root, 'docs/guides'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join('docs/guides', name));
  const readmes = readdirSync(join(root, 'packages')).map((name) =>
    join('packages', name, 'README.md'),
  );
  return [...guides, ...readmes].filter((file) => {
    try {
      return readFileSync(join(root, file), 'utf8').includes('<!-- test:');
    } catch {
      return false;
    }
  });
}

/** `[{ target, prelude, source, line, code }]` for each marked block of `file`. */
export function markedBlocks(file) {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const blocks = [];
  for (let index = 0; index < lines.length; index++) {
    const mark = MARK.exec(lines[index] ?? '');
    if (mark === null) continue;
    const fence = FENCE.exec(lines[index + 1] ?? '');
    if (fence === null) {
      throw new Error(`${file}:${index + 1}: a test mark must be followed by a code fence`);
    }
    const end = lines.findIndex((line, at) => at > index + 1 && line.trimEnd() === fence[1]);
    if (end === -1) throw new Error(`${file}:${index + 2}: the code block is never closed`);
    blocks.push({
      target: mark[1],
      prelude: mark[2],
      source: file,
      line: index + 3,
      code: lines.slice(index + 2, end).join('\n'),
    });
    index = end;
  }
  return blocks;
}

/** Writes every marked block under `outDir`; returns the files written. */
export function writeTests(outDir, preludeDir = join(root, 'consumer/docs')) {
  const files = new Map();
  for (const file of documentFiles()) {
    for (const block of markedBlocks(file)) {
      const parts = files.get(block.target) ?? [];
      if (block.prelude !== undefined) {
        parts.push(readFileSync(join(preludeDir, block.prelude), 'utf8').trimEnd());
      }
      const comment = block.target.endsWith('.sh') ? '#' : '//';
      parts.push(`${comment} ${block.source}:${block.line}\n${block.code}`);
      files.set(block.target, parts);
    }
  }
  for (const [target, parts] of files) {
    const path = join(outDir, target);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${parts.join('\n\n')}\n`);
  }
  return [...files.keys()];
}

if (import.meta.main ?? process.argv[1] === new URL(import.meta.url).pathname) {
  const [outDir] = process.argv.slice(2);
  if (outDir === undefined || outDir === '--list') {
    for (const file of documentFiles()) {
      for (const block of markedBlocks(file)) {
        console.log(`${file}:${block.line - 2} -> ${block.target}`);
      }
    }
  } else {
    const written = writeTests(outDir);
    console.log(
      `${written.length} files from the docs in ${relative(process.cwd(), outDir) || '.'}`,
    );
  }
}
