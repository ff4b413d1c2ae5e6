// Hostile input at volume: generated malformed requests at each example, over raw TCP.
//   pnpm bench:fuzz [express fastify ...] [--requests=100000] [--concurrency=32] [--seed=1]
// Each example runs as `pnpm start` runs it (node src/main.ts, SQLite in memory, no
// Redis, the per-IP limit raised out of the way). Every request is one connection,
// written byte for byte (so it can break HTTP itself), from one of the named mutation
// classes below. The run fails when any answer is a 5xx, an error answer is not an
// RFC 9457 problem, the process exits, a clean request afterwards fails, or the
// resident set grew by more than 20% between the first tenth and the end. Writes
// bench/results/fuzz-<date>.md.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { freePort } from './runner/server.ts';

const EXAMPLES = ['express', 'fastify', 'koa', 'hono', 'node-http', 'nest'] as const;
const options = new Map(
  process.argv
    .slice(2)
    .filter((arg) => arg.startsWith('--'))
    .map((arg) => arg.slice(2).split('=') as [string, string]),
);
const chosen = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const examples = chosen.length === 0 ? [...EXAMPLES] : chosen;
const total = Number(options.get('requests') ?? '100000');
const concurrency = Number(options.get('concurrency') ?? '32');
const seed = Number(options.get('seed') ?? '1');
/**
 * Growth of the resident set allowed over the second half of the run: the heap grows to
 * its working size in the first half, and a leak keeps growing in the second.
 */
const MAX_RSS_GROWTH = 0.1;
/**
 * A body past the toolkit's limit (1 MiB) is refused before it is read; the connection
 * closes while the client still sends, and TCP's reset may discard the 413 in flight
 * (RFC 9112 section 9.6). Only then is a connection closed without an answer accepted.
 */
const OVER_BODY_LIMIT = 1024 * 1024;
/** How long a request may wait for its answer before the client half-closes. */
const NUDGE_MS = 2000;
/** How long one exchange may take before it counts as a hang. */
const EXCHANGE_TIMEOUT_MS = 10_000;

/** xorshift32: the same seed makes the same requests, so a failure can be replayed. */
function random(seedValue: number): () => number {
  let state = seedValue >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

type Rng = () => number;
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T;
const bytes = (rng: Rng, length: number): Buffer =>
  Buffer.from(Array.from({ length }, () => Math.floor(rng() * 256)));

const ROUTES = [
  ['POST', '/api/v1/auth/register'],
  ['POST', '/api/v1/auth/login'],
  ['POST', '/api/v1/auth/refresh'],
  ['POST', '/api/v1/auth/logout'],
  ['GET', '/api/v1/users/me'],
  ['PATCH', '/api/v1/users/me'],
  ['GET', '/api/v1/users?limit=10&offset=0'],
  ['DELETE', '/api/v1/users/1'],
  ['POST', '/api/v1/api-keys'],
  ['GET', '/api/v1/api-keys'],
  ['DELETE', '/api/v1/api-keys/abc'],
  ['GET', '/api/v1/ws'],
] as const;

/** A request as parts, mutated before it is written. */
interface Draft {
  method: string;
  target: string;
  version: string;
  headers: [string, string | Buffer][];
  body: Buffer;
  /** Framing written as is (chunked bodies); when absent, Content-Length is added. */
  rawBody?: Buffer;
}

const JWT_PARTS = [
  'eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0',
  'eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9',
  'eyJhbGciOiJFUzI1NiIsImtpZCI6Ii4uLy4uL2V0Yy9wYXNzd2QifQ',
  'eyJzdWIiOiIxIiwiZXhwIjo5OTk5OTk5OTk5LCJyb2xlcyI6WyJhZG1pbiJdfQ',
  'e30',
  '',
  '%%%',
  'A'.repeat(3000),
];

/** The mutation classes, by name: each takes a plausible request and breaks one thing. */
const MUTATIONS: Record<string, (draft: Draft, rng: Rng) => void> = {
  method(draft, rng) {
    draft.method = pick(rng, [
      'TRACE',
      'CONNECT',
      'PROPFIND',
      'get',
      'G E T',
      'POST\u0000',
      'X'.repeat(300),
      'OPTIONS',
      'HEAD',
      'PUT',
      'BREW',
    ]);
  },
  path(draft, rng) {
    draft.target = pick(rng, [
      '/api/v1/users/%ZZ',
      '/api/v1/../../etc/passwd',
      '//api//v1//users//me',
      `/api/v1/users/${'a'.repeat(9000)}`,
      '/api/v1/users/%00',
      '/api/v1/users/\u00e9\u00e9',
      '*',
      'http://evil.test/api/v1/users/me',
      '/api/v1/users?limit=-1&offset=NaN',
      '/api/v1/users?limit=1e309&limit=2',
      `/api/v1/users?${'a=1&'.repeat(2000)}`,
      '/api/v1/api-keys/%2e%2e%2f',
      '/\t/',
      '',
    ]);
  },
  version(draft, rng) {
    draft.version = pick(rng, ['HTTP/1.2', 'HTTP/0.9', 'HTTP/2.0', 'HTTPS/1.1', 'HTTP/1.1 x']);
  },
  headers(draft, rng) {
    const hostile: [string, string | Buffer][] = [
      ['Content-Length', '5'],
      ['Content-Length', '-1'],
      ['Content-Length', '99999999999999999999'],
      ['Host', ''],
      ['X-Forwarded-For', '1.1.1.1, 2.2.2.2, not-an-ip, ::1'],
      ['X-Request-Id', 'a'.repeat(500)],
      ['X-Request-Id', '../../\r\nx'],
      ['Bad Header', 'x'],
      ['X-Null', Buffer.from([0x61, 0x00, 0x62])],
      ['X-Latin1', Buffer.from([0xff, 0xfe, 0x80])],
      ['Cookie', `session=${'x'.repeat(8000)}`],
      ['Origin', 'null'],
      ['Idempotency-Key', `"${'k'.repeat(400)}"`],
      ['Expect', '100-continue'],
      ['Expect', 'nothing-you-know'],
      ['Connection', 'Upgrade'],
      ['Upgrade', 'websocket'],
      ['Accept', '*/*;q=NaN'],
    ];
    const count = 1 + Math.floor(rng() * 3);
    for (let i = 0; i < count; i++) draft.headers.push(pick(rng, hostile));
    if (rng() < 0.05) {
      for (let i = 0; i < 200; i++) draft.headers.push([`X-Many-${i}`, 'v']);
    }
  },
  body(draft, rng) {
    draft.body = Buffer.from(
      pick(rng, [
        '{"email":',
        '{"email":"a@b.c","password":"x"}}',
        `[${'['.repeat(5000)}${']'.repeat(5000)}]`,
        '{"__proto__":{"admin":true},"email":"a@b.c","password":"correct horse battery"}',
        '{"constructor":{"prototype":{"roles":["admin"]}}}',
        'null',
        '"string"',
        '1e999999',
        `{"email":"a@b.c","password":"${'p'.repeat(2_000_000)}"}`,
        '\uFEFF{"email":"a@b.c"}',
        '{"name":"\\ud800"}',
        '{"email":"a@b.c","email":"b@c.d","password":"correct horse battery staple"}',
      ]),
    );
    if (rng() < 0.2) draft.body = bytes(rng, 1 + Math.floor(rng() * 300));
  },
  token(draft, rng) {
    const token =
      rng() < 0.5
        ? `${pick(rng, JWT_PARTS)}.${pick(rng, JWT_PARTS)}.${pick(rng, JWT_PARTS)}`
        : pick(rng, [
            '',
            ' ',
            'null',
            'usersapi_x_y',
            `usersapi_${'A'.repeat(16)}_${'B'.repeat(42)}`,
          ]);
    draft.headers.push(
      pick(rng, [
        ['Authorization', `Bearer ${token}`],
        ['Authorization', `bearer  ${token}`],
        ['Authorization', `Basic ${token}`],
        ['Authorization', 'Bearer'],
        ['X-API-Key', token],
        ['Sec-WebSocket-Protocol', `bearer, ${token}`],
      ] as [string, string][]),
    );
    if (rng() < 0.2) draft.headers.push(['Authorization', 'Bearer a.b.c']);
  },
  contentType(draft, rng) {
    draft.headers = draft.headers.filter(([name]) => name.toLowerCase() !== 'content-type');
    draft.headers.push([
      'Content-Type',
      pick(rng, [
        'text/plain',
        'application/json; charset=utf-16',
        'application/json; charset=',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=',
        'application/json, text/html',
        'application/jsonx',
        '',
        ';;;',
        `application/json; ${'p=1; '.repeat(500)}`,
      ]),
    ]);
    if (rng() < 0.5) draft.body = Buffer.from('email=a%40b.c&password=%ZZ&email=x');
  },
  chunked(draft, rng) {
    draft.headers.push([
      'Transfer-Encoding',
      pick(rng, ['chunked', 'chunked, gzip', 'gzip', ' chunked', 'identity']),
    ]);
    if (rng() < 0.3) draft.headers.push(['Content-Length', '10']);
    draft.rawBody = Buffer.from(
      pick(rng, [
        '5\r\n{"a":\r\n0\r\n\r\n',
        'zz\r\nhello\r\n0\r\n\r\n',
        '5;ext=1\r\n{"a":\r\n3\r\n1}\r\n\r\n0\r\n\r\n',
        'FFFFFFFFFFFFFFFF\r\nx\r\n',
        '5\r\n123456789\r\n0\r\n\r\n',
        '-1\r\n\r\n',
        '0\r\nTrailer: x\r\n\r\n',
        '3\nabc\n0\n\n',
      ]),
    );
  },
};
const CLASSES = Object.keys(MUTATIONS);

function build(rng: Rng, kind: string): Buffer {
  const [method, target] = pick(rng, ROUTES);
  const draft: Draft = {
    method,
    target,
    version: 'HTTP/1.1',
    headers: [
      ['Host', '127.0.0.1'],
      ['Content-Type', 'application/json'],
    ],
    body: method === 'GET' || method === 'DELETE' ? Buffer.alloc(0) : Buffer.from('{}'),
  };
  (MUTATIONS[kind] as (draft: Draft, rng: Rng) => void)(draft, rng);
  const body = draft.rawBody ?? draft.body;
  // Framing is the mutation's when it wrote a length or a chunked body; else a true length.
  if (
    draft.rawBody === undefined &&
    !draft.headers.some(([name]) => /^content-length$/i.test(name))
  )
    draft.headers.push(['Content-Length', String(body.length)]);
  draft.headers.push(['Connection', 'close']);
  const parts: Buffer[] = [Buffer.from(`${draft.method} ${draft.target} ${draft.version}\r\n`)];
  for (const [name, value] of draft.headers) {
    parts.push(Buffer.from(`${name}: `), Buffer.from(value), Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('\r\n'), body);
  return Buffer.concat(parts);
}

/** One exchange's outcome: the status (0: closed without an answer) and what was wrong. */
interface Outcome {
  status: number;
  problem?: string;
}

function exchange(port: number, request: Buffer, method: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({
        status: 0,
        problem: `no answer within 10 s to ${JSON.stringify(request.subarray(0, 200).toString('latin1'))}`,
      });
    }, EXCHANGE_TIMEOUT_MS);
    // A request that declares more body than it sends waits for the rest; after a while,
    // say that is all (a half-close): Node's parser then reports the short body.
    const nudge = setTimeout(() => socket.end(), NUDGE_MS);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // The final answer has begun (not only a 100 Continue): no nudge needed.
      if (/HTTP\/1\.[01] [2-5]\d\d /.test(chunk.toString('latin1'))) clearTimeout(nudge);
    });
    socket.on('error', () => {}); // a reset after the answer is fine; judged on 'close'
    socket.on('close', () => {
      clearTimeout(timer);
      clearTimeout(nudge);
      const outcome = judge(Buffer.concat(chunks), method);
      if (outcome.status === 0 && request.length <= OVER_BODY_LIMIT)
        outcome.problem ??= `closed without an answer to ${JSON.stringify(request.subarray(0, 160).toString('latin1'))}`;
      resolve(outcome);
    });
    // Not end(): Node's server takes a client's half-close as leaving and drops the answer.
    socket.write(request);
  });
}

/** Reads the last answer on the connection (a 100 Continue may come first). */
function judge(raw: Buffer, method: string): Outcome {
  if (raw.length === 0) return { status: 0 };
  let text = raw.toString('latin1');
  while (/^HTTP\/1\.1 1\d\d /.test(text)) text = text.slice(text.indexOf('\r\n\r\n') + 4);
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? '0');
  if (status === 0)
    return { status: 0, problem: `unparseable answer: ${JSON.stringify(text.slice(0, 80))}` };
  if (status >= 500) return { status, problem: `${status}: ${text.slice(0, 300)}` };
  if (status < 400) return { status };
  const end = text.indexOf('\r\n\r\n');
  const head = text.slice(0, end).toLowerCase();
  if (!/\r\ncontent-type: application\/problem\+json/.test(head))
    return { status, problem: `${status} without a problem: ${text.slice(0, 200)}` };
  if (method === 'HEAD') return { status };
  let body = raw.subarray(raw.length - (text.length - end - 4)).toString('utf8');
  if (/\r\ntransfer-encoding: chunked/.test(head)) body = unchunk(body);
  try {
    const problem = JSON.parse(body) as { status?: unknown; title?: unknown };
    if (problem.status !== status || typeof problem.title !== 'string')
      return { status, problem: `${status} problem body mismatch: ${body.slice(0, 200)}` };
  } catch {
    return { status, problem: `${status} body is not JSON: ${body.slice(0, 200)}` };
  }
  return { status };
}

function unchunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const line = rest.indexOf('\r\n');
    const size = Number.parseInt(rest.slice(0, line), 16);
    if (!(size > 0)) return out;
    out += rest.slice(line + 2, line + 2 + size);
    rest = rest.slice(line + 2 + size + 2);
  }
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? '0') * 1024;
}

interface Report {
  name: string;
  sent: number;
  statuses: Map<number, number>;
  byClass: Map<string, Map<number, number>>;
  /** Answers that broke a rule. */
  failed: number;
  /** The first few of them, described. */
  failures: string[];
  /** The resident set at every tenth of the run, then at its end. */
  rss: number[];
  seconds: number;
  alive: boolean;
  healthyAfter: boolean;
}

async function start(
  name: string,
): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const port = await freePort();
  const cwd = fileURLToPath(new URL(`../../examples/${name}/`, import.meta.url));
  const child = spawn(process.execPath, ['src/main.ts'], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      RATE_LIMIT_PER_MINUTE: '100000000',
      LOG_LEVEL: 'error',
      NODE_ENV: 'production',
      SHUTDOWN_DELAY_MS: '0',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited at start:\n${output}`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { child, port, output: () => output };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${name} did not answer /healthz:\n${output}`);
}

async function fuzz(name: string): Promise<Report> {
  const { child, port, output } = await start(name);
  const rng = random(seed);
  const report: Report = {
    name,
    sent: 0,
    statuses: new Map(),
    byClass: new Map(CLASSES.map((kind) => [kind, new Map()])),
    failed: 0,
    failures: [],
    rss: [],
    seconds: 0,
    alive: true,
    healthyAfter: false,
  };
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (report.sent < total && child.exitCode === null) {
      const index = report.sent++;
      const kind = CLASSES[index % CLASSES.length] as string;
      const request = build(rng, kind);
      const method = request.subarray(0, request.indexOf(0x20)).toString('latin1');
      const outcome = await exchange(port, request, method);
      report.statuses.set(outcome.status, (report.statuses.get(outcome.status) ?? 0) + 1);
      const classStatuses = report.byClass.get(kind) as Map<number, number>;
      classStatuses.set(outcome.status, (classStatuses.get(outcome.status) ?? 0) + 1);
      if (outcome.problem !== undefined) {
        report.failed++;
        if (report.failures.length < 20) report.failures.push(`[${kind}] ${outcome.problem}`);
      }
      if (index % Math.floor(total / 10) === 0) report.rss.push(rssOf(child.pid as number));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  report.seconds = (performance.now() - started) / 1000;
  report.alive = child.exitCode === null;
  if (report.alive) {
    report.rss.push(rssOf(child.pid as number));
    const clean = await fetch(`http://127.0.0.1:${port}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email: 'after@example.com',
        password: 'correct horse battery staple',
      }),
    });
    report.healthyAfter = clean.status === 201;
    child.kill('SIGTERM');
    await once(child, 'exit');
  } else {
    report.failures.push(`the process exited (${child.exitCode}): ${output()}`);
  }
  return report;
}

const reports: Report[] = [];
for (const name of examples) {
  process.stdout.write(`${name}: ${total} requests, ${concurrency} at a time...\n`);
  const report = await fuzz(name);
  reports.push(report);
  process.stdout.write(
    `${name}: ${report.sent} sent in ${report.seconds.toFixed(0)} s; ${report.failed} failures; RSS ${report.rss.map(mib).join(', ')} MiB\n`,
  );
}

function mib(value: number): string {
  return (value / 2 ** 20).toFixed(0);
}

function verdict(report: Report): string[] {
  const problems: string[] = [];
  const fiveHundreds = [...report.statuses]
    .filter(([s]) => s >= 500)
    .reduce((n, [, c]) => n + c, 0);
  if (fiveHundreds > 0) problems.push(`${fiveHundreds} answers were 5xx`);
  if (report.failed > fiveHundreds)
    problems.push(`${report.failed - fiveHundreds} answers were not as required`);
  if (!report.alive) problems.push('the process exited');
  if (report.alive && !report.healthyAfter) problems.push('a clean request afterwards failed');
  const half = report.rss[Math.floor(report.rss.length / 2)] ?? 0;
  const end = report.rss.at(-1) ?? 0;
  if (end > half * (1 + MAX_RSS_GROWTH))
    problems.push(`RSS grew ${(100 * (end / half - 1)).toFixed(0)}% in the second half`);
  return problems;
}

const date = new Date().toISOString().slice(0, 10);
const lines = [
  `# Fuzz, ${date}`,
  '',
  `Command: \`pnpm bench:fuzz --requests=${total} --concurrency=${concurrency} --seed=${seed}\`. Each request is one connection, written byte for byte, from one of ${CLASSES.length} mutation classes in turn (${CLASSES.join(', ')}); the examples run as \`pnpm start\` runs them (SQLite in memory, no Redis, the per-IP limit raised). Required: no 5xx, every 4xx an \`application/problem+json\` body whose \`status\` matches (HEAD: the header), the process alive and answering a clean register afterwards, RSS at the end within ${MAX_RSS_GROWTH * 100}% of RSS at half-time (sampled at every tenth). Status 0: the connection closed without an answer, accepted only for a body over the 1 MiB limit (refused before it is read; the reset may discard the 413 in flight, RFC 9112 section 9.6).`,
  '',
  '| example | requests | seconds | statuses | 5xx | other failures | RSS at each tenth, then the end (MiB) | alive, clean request after | verdict |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
];
for (const report of reports) {
  const statuses = [...report.statuses]
    .sort(([a], [b]) => a - b)
    .map(([status, count]) => `${status}: ${count}`)
    .join(', ');
  const fiveHundreds = [...report.statuses]
    .filter(([s]) => s >= 500)
    .reduce((n, [, c]) => n + c, 0);
  const problems = verdict(report);
  lines.push(
    `| ${report.name} | ${report.sent} | ${report.seconds.toFixed(0)} | ${statuses} | ${fiveHundreds} | ${report.failed - fiveHundreds} | ${report.rss.map(mib).join(', ')} | ${report.alive ? 'yes' : 'no'}, ${report.healthyAfter ? 'yes' : 'no'} | ${problems.length === 0 ? 'pass' : `**fail**: ${problems.join('; ')}`} |`,
  );
}
lines.push('', 'Statuses by mutation class (all examples together):', '');
const merged = new Map<string, Map<number, number>>();
for (const report of reports) {
  for (const [kind, statuses] of report.byClass) {
    const into = merged.get(kind) ?? new Map<number, number>();
    for (const [status, count] of statuses) into.set(status, (into.get(status) ?? 0) + count);
    merged.set(kind, into);
  }
}
for (const [kind, statuses] of merged) {
  const text = [...statuses]
    .sort(([a], [b]) => a - b)
    .map(([status, count]) => `${status}: ${count}`)
    .join(', ');
  lines.push(`- ${kind}: ${text}`);
}
const failures = reports.flatMap((report) => report.failures.map((f) => `- ${report.name} ${f}`));
if (failures.length > 0) lines.push('', 'First failures:', '', ...failures.slice(0, 40));
const file = fileURLToPath(new URL(`../results/fuzz-${date}.md`, import.meta.url));
writeFileSync(file, `${lines.join('\n')}\n`);
process.stdout.write(`${lines.join('\n')}\n\nwritten to ${file}\n`);
process.exitCode = reports.every((report) => verdict(report).length === 0) ? 0 : 1;
