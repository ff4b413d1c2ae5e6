/**
 * Two instances of one example behind a small round-robin proxy, as a load balancer
 * would run them: they share Redis (rate limits, login failures, refresh tokens, API
 * keys), the signing key (a token one mints, the other accepts) and the database file,
 * and trust the proxy's `X-Forwarded-For` (`TRUST_PROXY=loopback`), so the per-IP
 * limit counts the client, not the proxy. See docs/guides/running-several-instances.md.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 pnpm --dir examples/two-instances start
 *
 * `FRAMEWORK` picks the example (default express), `PORT` the proxy's port (default
 * 3000); the instances listen on free ports. Each answer says which instance served it
 * in `X-Served-By`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, request } from 'node:http';
import { type AddressInfo, connect, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const { REDIS_URL } = process.env;
if (REDIS_URL === undefined) {
  process.stderr.write(
    'REDIS_URL is required: the instances share their state through Redis (for example redis://127.0.0.1:6379).\n',
  );
  process.exit(1);
}
const framework = process.env.FRAMEWORK ?? 'express';
const dir = mkdtempSync(join(tmpdir(), 'two-instances-'));

// One signing key for both, unless one is given: each would otherwise make its own.
let signingKeyFile = process.env.SIGNING_KEY_FILE;
if (signingKeyFile === undefined) {
  signingKeyFile = join(dir, 'signing-key.pem');
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(signingKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
  });
}

async function freePort(): Promise<number> {
  const server = createNetServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts one instance and waits until it is ready. */
async function startInstance(
  name: string,
): Promise<{ name: string; port: number; child: ChildProcess }> {
  const port = await freePort();
  const cwd = fileURLToPath(new URL(`../../${framework}/`, import.meta.url));
  const child = spawn(process.execPath, ['src/main.ts'], {
    cwd,
    env: {
      ...process.env,
      PORT: String(port),
      SIGNING_KEY_FILE: signingKeyFile,
      DATABASE_PATH: process.env.DATABASE_PATH ?? join(dir, 'users.db'),
      TRUST_PROXY: 'loopback',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`instance ${name} exited (${child.exitCode})`);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return { name, port, child };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`instance ${name} did not become ready`);
}

// One after the other: the first migrates the shared database.
const instances = [await startInstance('a'), await startInstance('b')];
let next = 0;
const pick = () => instances[next++ % instances.length] as (typeof instances)[number];

/** The request's headers for an instance: `X-Forwarded-For` is the socket's address, never the client's own claim. */
function forwardedHeaders(req: IncomingMessage): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && name !== 'x-forwarded-for') headers[name] = value;
  }
  headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
  return headers;
}

const proxy = createServer((req, res) => {
  const target = pick();
  const upstream = request(
    {
      host: '127.0.0.1',
      port: target.port,
      method: req.method,
      path: req.url,
      headers: forwardedHeaders(req),
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, { ...answer.headers, 'x-served-by': target.name });
      answer.pipe(res);
    },
  );
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/problem+json' });
    res.end(JSON.stringify({ type: 'about:blank', title: 'Bad Gateway', status: 502 }));
  });
  req.pipe(upstream);
});
// WebSockets: the upgrade request goes to one instance, then bytes flow both ways.
proxy.on('upgrade', (req, socket, head) => {
  const target = pick();
  const upstream = connect(target.port, '127.0.0.1', () => {
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (const [name, value] of Object.entries(forwardedHeaders(req))) {
      for (const one of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${one}`);
    }
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    upstream.write(head);
    upstream.pipe(socket).pipe(upstream);
  });
  upstream.on('error', () => socket.destroy());
  socket.on('error', () => upstream.destroy());
});

const port = Number(process.env.PORT ?? '3000');
proxy.listen(port, () => {
  process.stdout.write(
    `two ${framework} instances (${instances.map((i) => i.port).join(', ')}) behind http://localhost:${(proxy.address() as AddressInfo).port}\n`,
  );
});

// SIGTERM/SIGINT: the proxy stops taking connections, the instances drain, then exit.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, async () => {
    proxy.close();
    proxy.closeAllConnections();
    await Promise.all(
      instances.map(async ({ child }) => {
        if (child.exitCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }),
    );
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
}
