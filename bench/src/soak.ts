// A soak with faults: one example on Redis for minutes at about half its measured
// maximum rate, with Redis killed and restarted twice, slowloris connections and
// malformed requests in the mix.
//   pnpm bench:soak [--example=node-http] [--minutes=10] [--slowloris=500] [--users=50]
// Writes bench/results/soak-<date>.md and soak-<date>.svg (RSS, heap and p99 over time).
// Memory is flat when the live heap (after a full collection, every 10 s) and RSS of the
// last minute are within 10% of the second minute's.
// Redis runs with an append-only file fsynced on every write, as a deployment that keeps
// sessions must: a kill loses nothing it acknowledged.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './runner/server.ts';

const options = new Map(
  process.argv
    .slice(2)
    .filter((arg) => arg.startsWith('--'))
    .map((arg) => arg.slice(2).split('=') as [string, string]),
);
const example = options.get('example') ?? 'node-http';
const minutes = Number(options.get('minutes') ?? '10');
const slowlorisCount = Number(options.get('slowloris') ?? '500');
const userCount = Number(options.get('users') ?? '50');
const DURATION_MS = minutes * 60_000;
const SAMPLE_MS = 10_000;
/**
 * How often the example reports its memory: five times per table row, so the medians
 * that judge "flat" (minute 2 against the last minute) see 30 points each, not the
 * six a GC sawtooth would tilt.
 */
const PROBE_MS = 2_000;
/** Redis is killed at these shares of the run, and restarted after OUTAGE_MS. */
const OUTAGES = [0.3, 0.65];
const OUTAGE_MS = 15_000;
/** Seconds after a restart during which the client may still be reconnecting. */
const RECOVERY_MS = 5_000;
/** Of refreshes, the share that deliberately replays a spent token. */
const REPLAY_SHARE = 0.02;
const PASSWORD = 'correct horse battery staple';
const ADMIN = { email: 'soak-admin@example.com', password: 'a long soak admin password' };

/** The request mix, by weight. */
const MIX = [
  ['me', 0.7],
  ['refresh', 0.15],
  ['admin', 0.09],
  ['login', 0.05],
  ['malformed', 0.01],
] as const;
type Kind = (typeof MIX)[number][0];

const dir = mkdtempSync(join(tmpdir(), 'org-soak-'));

// --- Redis, killed and restarted on the same port --------------------------------
const redisPort = await freePort();
let redis: ChildProcess | undefined;
async function startRedis(): Promise<void> {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(redisPort),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${out}`)));
  });
  child.stdout?.resume();
  redis = child;
}
async function killRedis(): Promise<void> {
  const child = redis;
  if (child === undefined || child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

// --- the example, with a memory probe preloaded -----------------------------------
const port = await freePort();
const probeFile = join(dir, 'memory.jsonl');
async function startExample(): Promise<ChildProcess> {
  const cwd = fileURLToPath(new URL(`../../examples/${example}/`, import.meta.url));
  const probe = fileURLToPath(new URL('./soak-probe.mjs', import.meta.url));
  // --expose-gc for the probe's full collection every SAMPLE_MS, nothing else.
  const server = spawn(process.execPath, ['--expose-gc', '--import', probe, 'src/main.ts'], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      DATABASE_PATH: join(dir, 'users.db'),
      SEED_ADMIN_EMAIL: ADMIN.email,
      SEED_ADMIN_PASSWORD: ADMIN.password,
      RATE_LIMIT_PER_MINUTE: '100000000',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      SHUTDOWN_DELAY_MS: '0',
      SOAK_PROBE_FILE: probeFile,
      SOAK_PROBE_MS: String(PROBE_MS),
      SOAK_LIVE_EVERY: String(SAMPLE_MS / PROBE_MS),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  server.stderr?.resume();
  for (let i = 0; i < 600; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return server;
    if (server.exitCode !== null) throw new Error(`${example} exited at start`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${example} never became ready`);
}

const fds = (): number => readdirSync(`/proc/${server.pid}/fd`).length;
const rss = (): number =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))?.[1]) * 1024;

// --- HTTP ---------------------------------------------------------------------------
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
interface Answer {
  status: number;
  code?: string | undefined;
  body?: Record<string, unknown> | undefined;
}
function call(method: string, path: string, body?: unknown, token?: string): Promise<Answer> {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {};
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let parsed: Record<string, unknown> | undefined;
        try {
          parsed = JSON.parse(text) as Record<string, unknown>;
        } catch {
          parsed = undefined;
        }
        resolve({
          status: res.statusCode ?? 0,
          code: parsed?.code as string | undefined,
          body: parsed,
        });
      });
      res.on('error', () => resolve({ status: 0 }));
    });
    req.setTimeout(30_000, () => req.destroy());
    req.on('error', () => resolve({ status: 0 }));
    req.end(payload);
  });
}

const MALFORMED = [
  'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{"email":',
  'GET /api/v1/users/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a.b.c\r\n\r\n',
  'PATCH /api/v1/users/me HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi',
  'G E T / HTTP/1.1\r\nHost: x\r\n\r\n',
];
function malformed(index: number): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.setTimeout(30_000, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      // One answer is enough; keep-alive would otherwise hold the socket.
      if (text.includes('\r\n\r\n')) socket.destroy();
    });
    socket.on('error', () => {});
    socket.on('close', () =>
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? '0') }),
    );
    socket.write(MALFORMED[index % MALFORMED.length] as string);
  });
}

// --- sessions: 50 users rotating refresh tokens -------------------------------------
interface User {
  email: string;
  access: string;
  refresh: string;
  /** A spent token, kept to replay on purpose. */
  spent?: string | undefined;
  busy: boolean;
  /** The user's last few refresh answers, to explain a lost family in the report. */
  history: string[];
}
const users: User[] = [];
/** False once the run is over: background sign-ins stop. */
let soaking = true;
/** When the soak proper began (after the maximum was measured). */
let soakStart: number | undefined;
const families = {
  rotated: 0,
  lost: 0,
  wronglyRevoked: 0,
  replays: 0,
  replaysDetected: 0,
  /** Replays answered 503 while Redis was down: nothing could be checked, nothing was issued. */
  replaysUnchecked: 0,
  /** Replays answered with new tokens: reuse went unnoticed. */
  replaysMissed: 0,
  relogins: 0,
  /** Each lost or wrongly revoked family: the user and its last refresh answers. */
  explained: [] as string[],
};
/** Notes a refresh answer in the user's history (the last 6 are kept). */
function remember(user: User, what: string, token: string, answer: Answer): void {
  const at = ((Date.now() - (soakStart ?? Date.now())) / 1000).toFixed(1);
  user.history.push(`${at} s ${what} …${token.slice(-6)}: ${answer.status} ${answer.code ?? ''}`);
  if (user.history.length > 6) user.history.shift();
}
let adminToken = '';

async function login(email: string, password: string): Promise<Answer> {
  return call('POST', '/api/v1/auth/login', { email, password });
}

// --- recording ------------------------------------------------------------------------
interface Sample {
  at: number;
  route: Kind;
  status: number;
  code?: string | undefined;
  ms: number;
}
const samples: Sample[] = [];
/** Requests sent and not answered yet. */
const inFlight = new Set<Promise<void>>();
const outageWindows: [number, number][] = [];
const inOutage = (at: number) =>
  outageWindows.some(([from, to]) => at >= from && at <= to + RECOVERY_MS);

async function run(kind: Kind, index: number): Promise<void> {
  const started = performance.now();
  let answer: Answer;
  switch (kind) {
    case 'me': {
      const user = users[index % users.length] as User;
      answer = await call('GET', '/api/v1/users/me', undefined, user.access);
      break;
    }
    case 'admin':
      answer = await call('GET', '/api/v1/users?limit=20', undefined, adminToken);
      break;
    case 'login': {
      const user = users[index % users.length] as User;
      answer = await login(user.email, PASSWORD);
      break;
    }
    case 'malformed':
      answer = await malformed(index);
      break;
    case 'refresh':
      answer = await refresh(index);
      break;
  }
  samples.push({
    at: Date.now(),
    route: kind,
    status: answer.status,
    code: answer.code,
    ms: performance.now() - started,
  });
}

/**
 * One refresh (or, now and then, a replay of a spent token) for a user no other request
 * is using. A user whose family ended signs in again in the background, busy meanwhile,
 * so the sign-in's time is not counted as the refresh's.
 */
async function refresh(index: number): Promise<Answer> {
  const user =
    users.find((u, i) => !u.busy && i >= index % users.length) ?? users.find((u) => !u.busy);
  if (user === undefined) return call('GET', '/api/v1/users/me', undefined, users[0]?.access);
  user.busy = true;
  let answer: Answer;
  let ended = false;
  if (user.spent !== undefined && Math.random() < REPLAY_SHARE / 0.15) {
    // A replay of a spent token: reuse must be detected and the family revoked.
    families.replays++;
    answer = await call('POST', '/api/v1/auth/refresh', { refresh_token: user.spent });
    remember(user, 'replay', user.spent, answer);
    if (answer.status === 401 && answer.code === 'ERR_REFRESH_REUSED') families.replaysDetected++;
    else if (answer.status === 503) families.replaysUnchecked++;
    else if (answer.status === 200) families.replaysMissed++;
    ended = answer.status !== 503;
  } else {
    answer = await call('POST', '/api/v1/auth/refresh', { refresh_token: user.refresh });
    remember(user, 'rotate', user.refresh, answer);
    if (answer.status === 200) {
      families.rotated++;
      user.spent = user.refresh;
      user.refresh = answer.body?.refresh_token as string;
      user.access = answer.body?.access_token as string;
    } else if (answer.status === 401) {
      // Ours, unspent: refused means the family was lost or revoked wrongly.
      if (answer.code === 'ERR_REFRESH_REUSED') families.wronglyRevoked++;
      else families.lost++;
      families.explained.push(`${user.email}: ${user.history.join('; ')}`);
      ended = true;
    }
  }
  if (ended) void relogin(user);
  else user.busy = false;
  return answer;
}

/**
 * Signs a user in again once its family ended. The user stays busy (never refreshed)
 * until a sign-in succeeds, however long logins are shed: its old token is dead on
 * purpose, and presenting it would count a family as lost that was ended by design.
 */
async function relogin(user: User): Promise<void> {
  while (soaking) {
    const answer = await login(user.email, PASSWORD);
    if (answer.status === 200) {
      families.relogins++;
      user.refresh = answer.body?.refresh_token as string;
      user.access = answer.body?.access_token as string;
      user.spent = undefined;
      user.busy = false;
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

// --- slowloris ------------------------------------------------------------------------
const lorises = new Set<Socket>();
let lorisReconnects = 0;
let lorisRunning = true;
function openLoris(): void {
  if (!lorisRunning) return;
  const socket = connect(port, '127.0.0.1');
  lorises.add(socket);
  socket.on('error', () => {});
  socket.on('close', () => {
    lorises.delete(socket);
    clearInterval(drip);
    if (lorisRunning) {
      lorisReconnects++;
      setTimeout(openLoris, 1000);
    }
  });
  socket.write('GET /api/v1/users/me HTTP/1.1\r\nHost: x\r\n');
  // One header byte every 10 s, never the end of the header block.
  const drip = setInterval(() => socket.write('X'), 10_000);
}

// --- the run ---------------------------------------------------------------------------
await startRedis();
const server = await startExample();
for (let i = 0; i < userCount; i++) {
  const email = `soak-${i}@example.com`;
  await call('POST', '/api/v1/auth/register', { email, password: PASSWORD });
  const answer = await login(email, PASSWORD);
  users.push({
    email,
    access: answer.body?.access_token as string,
    refresh: answer.body?.refresh_token as string,
    busy: false,
    history: [],
  });
}
adminToken = (await login(ADMIN.email, ADMIN.password)).body?.access_token as string;
const fdsAtStart = fds();

function pickKind(r: number): Kind {
  let sum = 0;
  for (const [kind, weight] of MIX) {
    sum += weight;
    if (r < sum) return kind;
  }
  return 'me';
}

// Maximum: the mix closed-loop, 32 at a time, for 15 s.
let counted = 0;
const measureUntil = performance.now() + 15_000;
await Promise.all(
  Array.from({ length: 32 }, async () => {
    while (performance.now() < measureUntil) await run(pickKind(Math.random()), counted++);
  }),
);
const maximum = counted / 15;
const rate = Math.max(10, Math.round(maximum / 2));
samples.length = 0;
process.stdout.write(
  `maximum ${maximum.toFixed(0)} req/s with the mix; soaking at ${rate} req/s for ${minutes} min\n`,
);

for (let i = 0; i < slowlorisCount; i++) openLoris();
const memory: { at: number; rss: number }[] = [];
const started = Date.now();
soakStart = started;
const sampler = setInterval(() => {
  memory.push({ at: Date.now(), rss: rss() });
  const recent = samples.filter((s) => s.at > Date.now() - SAMPLE_MS);
  process.stdout.write(
    `${((Date.now() - started) / 1000).toFixed(0)} s: ${recent.length} answers in ${SAMPLE_MS / 1000} s, ${inFlight.size} in flight, RSS ${(rss() / 2 ** 20).toFixed(0)} MiB\n`,
  );
}, SAMPLE_MS);
memory.push({ at: started, rss: rss() });
for (const share of OUTAGES) {
  setTimeout(async () => {
    const from = Date.now();
    await killRedis();
    process.stdout.write(`redis killed at ${((from - started) / 1000).toFixed(0)} s\n`);
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    await startRedis();
    outageWindows.push([from, Date.now()]);
    process.stdout.write(`redis restarted at ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  }, DURATION_MS * share);
}

let issued = 0;
while (Date.now() - started < DURATION_MS) {
  const due = Math.floor(((Date.now() - started) / 1000) * rate);
  while (issued < due) {
    const task = run(pickKind(Math.random()), issued++);
    inFlight.add(task);
    void task.finally(() => inFlight.delete(task));
  }
  await new Promise((resolve) => setTimeout(resolve, 5));
}
soaking = false;
// Requests still in flight get 30 s; one that hangs longer is counted as unanswered.
const drained = await Promise.race([
  Promise.all(inFlight).then(() => true),
  new Promise<false>((resolve) => setTimeout(resolve, 30_000, false)),
]);
if (!drained) process.stdout.write(`${inFlight.size} requests still unanswered after 30 s\n`);
clearInterval(sampler);
memory.push({ at: Date.now(), rss: rss() });
lorisRunning = false;
for (const socket of lorises) socket.destroy();
agent.destroy();
// The server closes its side of each connection once it sees the client's close: give
// it up to 10 s to get back to where it started.
for (let waited = 0; waited < 10_000 && fds() > fdsAtStart; waited += 250) {
  await new Promise((resolve) => setTimeout(resolve, 250));
}
const fdsAtEnd = fds();
const elapsed = (Date.now() - started) / 1000;
server.kill('SIGTERM');
await once(server, 'exit');
await killRedis();

// --- report ------------------------------------------------------------------------------
const heap = readFileSync(probeFile, 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as { at: number; rss: number; heapUsed: number; live?: number })
  .filter((point) => point.at >= started);
rmSync(dir, { recursive: true, force: true });

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}
const median = (values: number[]) => percentile(values, 50);
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

const inPolicy = (s: Sample) =>
  s.status === 503 &&
  inOutage(s.at) &&
  (s.code === 'ERR_REFRESH_STORE_UNAVAILABLE' || s.code === 'ERR_IDEMPOTENCY_STORE');
// Overload answered as designed: a 503 with Retry-After from the load shedder or the
// password hasher's bounded queue, counted apart from failures.
const shed = (s: Sample) =>
  s.status === 503 && (s.code === 'ERR_OVERLOADED' || s.code === 'ERR_PASSWORD_HASHER_BUSY');
const outside = samples.filter((s) => s.status >= 500 && !inPolicy(s) && !shed(s));
const routes = [...new Set(samples.map((s) => s.route))];
const date = new Date().toISOString().slice(0, 10);
const secondMinute = heap.filter((p) => p.at - started >= 60_000 && p.at - started < 120_000);
const lastMinute = heap.filter((p) => p.at - started >= elapsed * 1000 - 60_000);
const flat = (key: 'rss' | 'heapUsed' | 'live') => {
  const of = (points: typeof heap) =>
    median(points.flatMap((p) => (p[key] === undefined ? [] : [p[key]])));
  const early = of(secondMinute);
  const late = of(lastMinute);
  return { early, late, ratio: late / early };
};
const rssFlat = flat('rss');
const heapFlat = flat('heapUsed');
const liveFlat = flat('live');
const change = ({ early, late, ratio }: { early: number; late: number; ratio: number }) =>
  `${mib(early)} -> ${mib(late)} MiB (${((ratio - 1) * 100).toFixed(1)}%)`;

const lines = [
  `# Soak, ${date}`,
  '',
  `Command: \`pnpm bench:soak --example=${example} --minutes=${minutes} --slowloris=${slowlorisCount} --users=${userCount}\` (${elapsed.toFixed(0)} s). The ${example} example on one redis-server (append-only file, fsync always), SQLite in a file. The mix, measured closed-loop first at ${maximum.toFixed(0)} req/s, then sent open-loop at ${rate} req/s: ${MIX.map(([k, w]) => `${k} ${(w * 100).toFixed(0)}%`).join(', ')}; ${userCount} users rotating refresh tokens (${(REPLAY_SHARE * 100).toFixed(0)}% of refreshes replay a spent token on purpose), ${slowlorisCount} slowloris connections sending one header byte every 10 s (reconnecting when closed), Redis killed (SIGKILL) at ${OUTAGES.map((s) => `${(s * minutes).toFixed(1)} min`).join(' and ')} and restarted ${OUTAGE_MS / 1000} s later.`,
  '',
  '| measure | result | target |',
  '| --- | --- | --- |',
  `| requests | ${samples.length} (${(samples.length / elapsed).toFixed(0)} req/s) | about half the maximum |`,
  `| 5xx outside the fail policy | ${outside.length} | 0 |`,
  `| 503 within the fail policy (Redis down, \`ERR_REFRESH_STORE_UNAVAILABLE\`) | ${samples.filter(inPolicy).length} | - |`,
  `| 503 shed on purpose (\`ERR_OVERLOADED\`, \`ERR_PASSWORD_HASHER_BUSY\`) | ${samples.filter(shed).length} | - |`,
  `| refresh families lost / wrongly revoked | ${families.lost} / ${families.wronglyRevoked} (of ${families.rotated} rotations) | 0 / 0 |`,
  `| deliberate replays: detected / missed / answered 503 while Redis was down | ${families.replaysDetected} / ${families.replaysMissed} / ${families.replaysUnchecked} (of ${families.replays}) | missed 0 |`,
  `| RSS, median of minute 2 -> last minute (probed every ${PROBE_MS / 1000} s) | ${change(rssFlat)} | within 10% |`,
  `| live heap (heap used after a full collection), median of minute 2 -> last minute (every ${SAMPLE_MS / 1000} s) | ${change(liveFlat)} | within 10% |`,
  `| heap used as found, garbage included, median of minute 2 -> last minute (probed every ${PROBE_MS / 1000} s) | ${change(heapFlat)} | - |`,
  `| file descriptors, start -> end | ${fdsAtStart} -> ${fdsAtEnd} | back to start |`,
  `| slowloris connections closed by the server and reopened | ${lorisReconnects} | - |`,
  '',
  '| route | requests | statuses | p50 ms | p99 ms | p99.9 ms |',
  '| --- | --- | --- | --- | --- | --- |',
];
for (const route of routes) {
  const of = samples.filter((s) => s.route === route);
  const statuses = new Map<string, number>();
  for (const s of of) {
    const key =
      s.status >= 400 && s.code !== undefined ? `${s.status} ${s.code}` : String(s.status);
    statuses.set(key, (statuses.get(key) ?? 0) + 1);
  }
  const ms = of.map((s) => s.ms);
  lines.push(
    `| ${route} | ${of.length} | ${[...statuses]
      .sort()
      .map(([k, n]) => `${k}: ${n}`)
      .join(
        ', ',
      )} | ${percentile(ms, 50).toFixed(1)} | ${percentile(ms, 99).toFixed(1)} | ${percentile(ms, 99.9).toFixed(1)} |`,
  );
}
const all = samples.map((s) => s.ms);
lines.push(
  `| all | ${samples.length} | | ${percentile(all, 50).toFixed(1)} | ${percentile(all, 99).toFixed(1)} | ${percentile(all, 99.9).toFixed(1)} |`,
);
if (families.explained.length > 0) {
  lines.push(
    '',
    "Families lost or wrongly revoked, with the user's last refresh answers (first 10):",
    '',
  );
  for (const line of families.explained.slice(0, 10)) lines.push(`- ${line}`);
}
if (outside.length > 0) {
  lines.push('', '5xx outside the policy (first 10):', '');
  for (const s of outside.slice(0, 10))
    lines.push(
      `- ${((s.at - started) / 1000).toFixed(0)} s ${s.route} ${s.status} ${s.code ?? ''}`,
    );
}

// The table and the plot, every SAMPLE_MS (the probe's points with a live heap): RSS, heap
// used, live heap, p99 of the requests that ended in that window.
const windows = heap
  .filter((point) => point.live !== undefined)
  .map((point) => {
    const within = samples
      .filter((s) => s.at > point.at - SAMPLE_MS && s.at <= point.at)
      .map((s) => s.ms);
    return {
      t: (point.at - started) / 1000,
      rss: point.rss,
      heap: point.heapUsed,
      live: point.live ?? Number.NaN,
      p99: percentile(within, 99),
    };
  });
lines.push(
  '',
  `Every ${SAMPLE_MS / 1000} s (plot: [soak-${date}.svg](soak-${date}.svg)):`,
  '',
  '| t s | RSS MiB | heap used MiB | live heap MiB | p99 ms |',
  '| --- | --- | --- | --- | --- |',
);
for (const w of windows)
  lines.push(
    `| ${w.t.toFixed(0)} | ${mib(w.rss)} | ${mib(w.heap)} | ${Number.isNaN(w.live) ? '-' : mib(w.live)} | ${Number.isNaN(w.p99) ? '-' : w.p99.toFixed(1)} |`,
  );

const resultsDir = fileURLToPath(new URL('../results/', import.meta.url));
writeFileSync(join(resultsDir, `soak-${date}.md`), `${lines.join('\n')}\n`);
writeFileSync(join(resultsDir, `soak-${date}.svg`), plot(windows, elapsed));
process.stdout.write(`${lines.join('\n')}\n\nwritten to ${join(resultsDir, `soak-${date}.md`)}\n`);

/** Two panels sharing the time axis: RSS and heap (MiB), and p99 latency (ms). */
function plot(
  points: { t: number; rss: number; heap: number; live: number; p99: number }[],
  seconds: number,
): string {
  const width = 900;
  const panel = 220;
  const left = 60;
  const x = (t: number) => left + (t / seconds) * (width - left - 20);
  const series = (values: number[], top: number, max: number) =>
    values
      .map(
        (v, i) =>
          `${x(points[i]?.t ?? 0).toFixed(1)},${(top + panel - (v / max) * panel).toFixed(1)}`,
      )
      .join(' ');
  const memMax = Math.max(...points.map((p) => p.rss)) * 1.1;
  const latMax = Math.max(1, ...points.map((p) => (Number.isNaN(p.p99) ? 0 : p.p99))) * 1.1;
  const outages = outageWindows
    .map(([from, to]) => {
      const x0 = x((from - started) / 1000);
      const x1 = x((to - started) / 1000);
      return `<rect x="${x0.toFixed(1)}" y="20" width="${(x1 - x0).toFixed(1)}" height="${2 * panel + 40}" fill="#f4c7c3" opacity="0.5"/>`;
    })
    .join('');
  const text = (xPos: number, yPos: number, value: string) =>
    `<text x="${xPos}" y="${yPos}" font-size="12" font-family="sans-serif">${value}</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${2 * panel + 90}" viewBox="0 0 ${width} ${2 * panel + 90}">
<rect width="100%" height="100%" fill="white"/>${outages}
${text(left, 15, `RSS (blue), heap used (green) and live heap (black), MiB; max ${mib(memMax)}. Red: Redis down.`)}
<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${series(
    points.map((p) => p.rss),
    20,
    memMax,
  )}"/>
<polyline fill="none" stroke="#2ca02c" stroke-width="2" points="${series(
    points.map((p) => p.heap),
    20,
    memMax,
  )}"/>
<polyline fill="none" stroke="black" stroke-width="2" points="${series(
    points.map((p) => (Number.isNaN(p.live) ? 0 : p.live)),
    20,
    memMax,
  )}"/>
${text(left, panel + 55, `p99 latency per ${SAMPLE_MS / 1000} s window, ms; max ${latMax.toFixed(0)}`)}
<polyline fill="none" stroke="#d62728" stroke-width="2" points="${series(
    points.map((p) => (Number.isNaN(p.p99) ? 0 : p.p99)),
    panel + 60,
    latMax,
  )}"/>
<line x1="${left}" y1="${2 * panel + 60}" x2="${width - 20}" y2="${2 * panel + 60}" stroke="black"/>
${text(left, 2 * panel + 80, '0 s')}${text(width - 60, 2 * panel + 80, `${seconds.toFixed(0)} s`)}
</svg>
`;
}
