#!/usr/bin/env node
// STYLE.md habit 17: package sources use only the public APIs of Node and of their
// dependencies. Fails on the patterns that let a package replace or wrap what it does
// not own, or read another library's private members. Each rule names the case it was
// written for; the self-check at the start proves every rule still catches its case.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const OWNED =
  '(?:socket|stream|req|res|request|response|incoming|outgoing|app|server|logger|reply|router)';

/** [name, pattern, a line the rule must catch]. */
const RULES = [
  [
    'no write coalescing',
    /coalesce(?:Writes|-writes|dSocket)/i,
    "import { coalesceWrites } from './coalesce-writes.js';",
  ],
  [
    "no patching a prototype of Node's or a library's",
    /\b[A-Z]\w*\.prototype\s*(?:as\b|\.|\[|=(?!=))/,
    'const base = Socket.prototype as CoalescedSocket;',
  ],
  [
    "no replacing a stream's implementation methods",
    /\._(?:write|writev|final|destroy|read|transform|flush)\s*=/,
    'socket._write = heldWrite;',
  ],
  [
    'no calling a saved stream implementation method',
    /\b(?:write|writev|final|destroy)\.call\(\s*socket/,
    'write.call(socket, chunk, encoding, held.sent);',
  ],
  [
    'no reading the symbols of an object we did not create',
    /getOwnPropertySymbols\(/,
    "const symbols = Object.getOwnPropertySymbols(new AsyncResource('x'));",
  ],
  [
    "no reading pino's internal symbols",
    /pino\.symbols|\bSym\b|[a-z]Sym\]/,
    'const { lsCacheSym } = pino.symbols;',
  ],
  [
    'no reading an underscore-prefixed (private) member',
    /(?<![\w$])(?:\)|\w)\._[a-zA-Z]\w*/,
    '(outgoing as { _contentLength?: number })._contentLength;',
  ],
  [
    'no declaring a private member to read it',
    /\{\s*_[a-zA-Z]\w*\??\s*:/,
    'const current = (socket as { _httpMessage?: { headersSent?: boolean } })',
  ],
  [
    'no replacing a method of an object we did not create',
    new RegExp(
      `\\b${OWNED}\\.\\w+\\s*=\\s*(?:async\\s+)?(?:function\\b|\\([^)]*\\)\\s*=>|\\w+\\s*=>)`,
    ),
    'logger.child = function redactedChild(this: Logger, bindings) {',
  ],
  [
    "no replacing a framework app's fetch",
    /\.fetch\s*=(?!=)/,
    'app.fetch = (request, env, executionCtx) => handle(request);',
  ],
  [
    "no rewriting hono's current route index",
    /\.routeIndex\s*=(?!=)/,
    'req.routeIndex = this.#routeIndex;',
  ],
  [
    'no defining properties on an object we did not create',
    new RegExp(`Object\\.defineProperty\\(\\s*${OWNED}\\b`),
    'Object.defineProperty(logger, PREPARED_LINE_WRITER, { value });',
  ],
  [
    'no duck-typed metric in a prom-client registry',
    /as unknown as Metric\b/,
    'registry.registerMetric(duration as unknown as Metric);',
  ],
];

let failures = 0;
for (const [name, pattern, sample] of RULES) {
  if (!pattern.test(sample)) {
    console.error(
      `check-public-apis: the rule "${name}" no longer catches its own case: ${sample}`,
    );
    failures++;
  }
}

const files = execFileSync(
  'git',
  ['ls-files', '-co', '--exclude-standard', 'packages/*/src/**/*.ts'],
  {
    encoding: 'utf8',
  },
)
  .split('\n')
  .filter((file) => file !== '' && !/\.test(-d)?\.ts$/.test(file));

for (const file of files) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    continue; // listed by git but deleted in the work tree
  }
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    const code = line.replace(/\/\/.*$/, '').replace(/^\s*\*.*$/, '');
    for (const [name, pattern] of RULES) {
      if (pattern.test(code)) {
        console.error(`${file}:${index + 1}: ${name}\n    ${line.trim()}`);
        failures++;
      }
    }
  });
}

if (failures > 0) {
  console.error(`check-public-apis: ${failures} finding(s); see STYLE.md habit 17.`);
  process.exit(1);
}
console.log(`check-public-apis: ${files.length} source files use public APIs only.`);
