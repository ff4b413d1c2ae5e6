// Nest 12 ships ES modules only. The CommonJS declarations of `@org/core/nest` import
// its types, which TypeScript rejects under `moduleResolution: node16` (TS1479) unless
// the import is type-only and resolves as ESM (`resolution-mode`, TypeScript 5.3+).
// tsup's declaration bundler drops import attributes, so they are added here.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

const ESM_ONLY = ['@nestjs/common', '@nestjs/core', '@nestjs/platform-ws'];
const dist = new URL('../dist/', import.meta.url);
const importOf = /^import (?!type )(.+) from '([^']+)';$/gm;

let rewritten = 0;
for (const file of readdirSync(dist).filter((name) => name.endsWith('.d.cts'))) {
  const path = new URL(file, dist);
  const text = readFileSync(path, 'utf8');
  const fixed = text.replace(importOf, (line, clause, specifier) => {
    if (!ESM_ONLY.includes(specifier)) return line;
    rewritten += 1;
    return `import type ${clause} from '${specifier}' with { 'resolution-mode': 'import' };`;
  });
  if (fixed !== text) writeFileSync(path, fixed);
}
// The nest entry imports both: finding neither means the bundler's output changed shape.
if (rewritten === 0) {
  console.error('esm-peer-types: no import of @nestjs/* found in dist/*.d.cts');
  process.exit(1);
}
