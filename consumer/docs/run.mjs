// Runs the code of the docs (written here by scripts/docs-to-tests.mjs) the way a reader
// runs it, with the node that runs this script and the packed packages installed in
// ../node_modules: the "Try it" shell steps of getting-started, each framework app and
// the production app answering requests, the FastAPI guide's app and settings, the README
// examples, and the vitest files of the testing and FastAPI guides. Exits 1 with one line
// per failure. Called by scripts/consumer-check.mjs.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';

const here = import.meta.dirname;
const exec = promisify(execFile);
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const since = (wantedMinor) => major > 22 || (major === 22 && minor >= wantedMinor);
// Node runs .ts files as they are from 22.18 on; the guides say to add the flag before.
const stripTypes = since(18) ? [] : ['--experimental-strip-types'];
// node:sqlite (the @org/observability README's database) needs a flag before 22.13.
const sqlite = since(13) ? [] : ['--experimental-sqlite'];
const env = {
  ...process.env,
  // `node` and `npx` in the shell steps are this node; npx never downloads anything.
  PATH: [dirname(process.execPath), process.env.PATH].join(delimiter),
  NODE_OPTIONS: [...stripTypes, ...sqlite, '--disable-warning=ExperimentalWarning'].join(' '),
  npm_config_offline: 'true',
  NODE_ENV: 'production',
};
const failures = [];
const started = performance.now();

async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  return port;
}

/** Starts `command` in `cwd` with PORT set; resolves once `probe` answers, with a stop function. */
async function start(name, command, args, { cwd, probe = '/', extraEnv = {} }) {
  const port = await freePort();
  const child = spawn(command, args, {
    cwd: join(here, cwd),
    env: { ...env, ...extraEnv, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: a shell step's `node` stops with it
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  let exited = false;
  child.once('exit', () => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (exited) return;
    const exit = once(child, 'exit');
    // The whole group at once, without the graceful shutdown's drain delay: nothing is
    // checked after the requests.
    process.kill(-child.pid, 'SIGKILL');
    await exit;
  };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && !exited) {
    try {
      await (await fetch(url + probe)).arrayBuffer();
      return { url, port, stop, output: () => output };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  await stop();
  throw new Error(`${name} did not answer ${probe}:\n${output}`);
}

async function check(name, run) {
  const at = performance.now();
  try {
    await run();
    console.log(`  ok ${name} (${((performance.now() - at) / 1000).toFixed(1)}s)`);
  } catch (error) {
    failures.push(name);
    console.error(`  FAILED ${name}: ${error.message}`);
  }
}

function expectThat(condition, message) {
  if (!condition) throw new Error(message);
}

const gettingStarted = 'getting-started';
const ISSUER = ['--iss', 'https://api.example.com', '--aud', 'api'];

await check('getting-started: org-auth keygen', async () => {
  await rm(join(here, gettingStarted, 'signing-key.json'), { force: true }); // a run per node
  await exec('bash', ['-e', 'keygen.sh'], { cwd: join(here, gettingStarted), env });
});
const { stdout: minted } = await exec(
  'npx',
  ['org-auth', 'token', '--key', 'signing-key.json', '--sub', 'user-1', ...ISSUER],
  { cwd: join(here, gettingStarted), env },
);
const token = minted.trim();

await check('getting-started: Try it, copy-paste from a shell', async () => {
  const app = await start('start.sh', 'bash', ['-e', 'start.sh'], {
    cwd: gettingStarted,
    probe: '/me',
  });
  try {
    // The page says localhost:3000; this run's app listens on a free port instead.
    const script = (await readFile(join(here, gettingStarted, 'try-it.sh'), 'utf8')).replaceAll(
      'localhost:3000',
      `localhost:${app.port}`,
    );
    const { stdout } = await exec('bash', ['-e', '-c', script], {
      cwd: join(here, gettingStarted),
      env,
    });
    const statuses = [...stdout.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((match) => match[1]);
    expectThat(statuses.join() === '200,401', `expected 200 then 401, got ${statuses}:\n${stdout}`);
    expectThat(stdout.includes('"sub":"user-1"'), `the 200 shows no claims:\n${stdout}`);
  } finally {
    await app.stop();
  }
});

for (const framework of ['express', 'fastify', 'koa', 'hono', 'node']) {
  await check(`getting-started: app/${framework}.ts`, async () => {
    const app = await start(framework, process.execPath, [`app/${framework}.ts`], {
      cwd: gettingStarted,
      probe: '/me',
    });
    try {
      const anonymous = await fetch(`${app.url}/me`);
      const problem = await anonymous.json();
      expectThat(anonymous.status === 401, `/me without a token: ${anonymous.status}`);
      expectThat(problem.code === 'ERR_TOKEN_MISSING', `problem: ${JSON.stringify(problem)}`);
      const signedIn = await fetch(`${app.url}/me`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const claims = await signedIn.json();
      expectThat(
        signedIn.status === 200,
        `/me with a token: ${signedIn.status} ${JSON.stringify(claims)}`,
      );
      expectThat(claims.sub === 'user-1', `claims: ${JSON.stringify(claims)}`);
    } finally {
      await app.stop();
    }
  });
}

await check('getting-started: the production app', async () => {
  const app = await start('production', process.execPath, ['app/production.ts'], {
    cwd: gettingStarted,
    probe: '/healthz',
    extraEnv: { SIGNING_KEY_FILE: 'signing-key.json' },
  });
  try {
    const jwks = await (await fetch(`${app.url}/.well-known/jwks.json`)).json();
    expectThat(jwks.keys?.length === 1, `jwks: ${JSON.stringify(jwks)}`);
    const me = await fetch(`${app.url}/me`, { headers: { authorization: `Bearer ${token}` } });
    expectThat(me.status === 200, `/me: ${me.status}`);
    expectThat(me.headers.get('x-request-id') !== null, '/me has no x-request-id');
    expectThat((await fetch(`${app.url}/readyz`)).status === 200, '/readyz is not 200');
  } finally {
    await app.stop();
  }
});

const json = { 'content-type': 'application/json' };

await check('FastAPI guide: app.ts', async () => {
  const app = await start('fastapi', process.execPath, ['fastapi/app.ts'], {
    cwd: '.',
    probe: '/pool-stats',
  });
  const get = async (path, init) => {
    const res = await fetch(app.url + path, init);
    return { status: res.status, body: await res.json() };
  };
  // The db dependency's teardown runs after the response was sent: wait until every
  // connection is released.
  const settled = async () => {
    const deadline = Date.now() + 5_000;
    let stats;
    do stats = (await get('/pool-stats')).body;
    while (stats.released < stats.connected && Date.now() < deadline);
    expectThat(stats.released === stats.connected, `connections left: ${JSON.stringify(stats)}`);
    return stats;
  };
  try {
    const before = await settled();
    const ann = await get('/users/1');
    expectThat(ann.status === 200 && ann.body.name === 'Ann', `/users/1: ${JSON.stringify(ann)}`);
    expectThat(!('passwordHash' in ann.body), '/users/1 shows the password hash');
    const afterFound = await settled();
    expectThat(
      afterFound.commits === before.commits + 1 && afterFound.rollbacks === before.rollbacks,
      `a 200 commits: ${JSON.stringify([before, afterFound])}`,
    );
    const missing = await get('/users/99');
    expectThat(missing.body.code === 'ERR_NOT_FOUND', `/users/99: ${JSON.stringify(missing)}`);
    const afterMissing = await settled();
    expectThat(
      afterMissing.rollbacks === afterFound.rollbacks + 1 &&
        afterMissing.commits === afterFound.commits,
      `a 404 rolls back: ${JSON.stringify([afterFound, afterMissing])}`,
    );
    const notANumber = await get('/users/ten');
    expectThat(notANumber.status === 422, `/users/ten: ${JSON.stringify(notANumber)}`);

    const bob = { email: 'bob@example.com', password: 'twelve chars or more', name: 'Bob' };
    const created = await get('/users', {
      method: 'POST',
      headers: json,
      body: JSON.stringify(bob),
    });
    expectThat(created.status === 201, `POST /users: ${JSON.stringify(created)}`);
    const taken = await get('/users', { method: 'POST', headers: json, body: JSON.stringify(bob) });
    expectThat(
      taken.body.code === 'ERR_EMAIL_TAKEN',
      `POST /users again: ${JSON.stringify(taken)}`,
    );
    const invalid = await get('/users', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ email: 'bob', password: 'short' }),
    });
    const pointers = invalid.body.errors?.map((error) => error.pointer).join();
    expectThat(
      invalid.status === 422 && pointers === '/email,/password',
      `an invalid user: ${JSON.stringify(invalid)}`,
    );

    const login = (username, password) =>
      get('/token', { method: 'POST', body: new URLSearchParams({ username, password }) });
    const signedIn = await login('bob@example.com', bob.password);
    expectThat(
      signedIn.status === 200 &&
        signedIn.body.token_type === 'bearer' &&
        signedIn.body.expires_in > 0,
      `POST /token: ${JSON.stringify(signedIn)}`,
    );
    const claims = JSON.parse(Buffer.from(signedIn.body.access_token.split('.')[1], 'base64url'));
    expectThat(
      claims.sub === String(created.body.id),
      `the token's claims: ${JSON.stringify(claims)}`,
    );
    const refused = await login('bob@example.com', 'not the password');
    expectThat(refused.status === 401, `POST /token, a wrong password: ${JSON.stringify(refused)}`);
  } finally {
    await app.stop();
  }
});

await check('FastAPI guide: config.ts', async () => {
  // The settings as the app sees them: from the environment, coerced, profile defaults.
  const read = async (extraEnv) => {
    const script =
      "const { config } = await import('./fastapi/config.ts'); console.log(JSON.stringify(config));";
    const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', script], {
      cwd: here,
      env: { ...env, ...extraEnv },
    });
    return JSON.parse(stdout);
  };
  const development = await read({ NODE_ENV: 'development', PORT: '8080', DEBUG: 'true' });
  expectThat(
    development.PORT === 8080 &&
      development.DEBUG === true &&
      development.DATABASE_PATH === ':memory:',
    `development: ${JSON.stringify(development)}`,
  );
  const production = await read({ NODE_ENV: 'production', DATABASE_PATH: '/var/lib/app.db' });
  expectThat(
    production.PORT === 3000 && production.RATE_LIMIT_PER_MINUTE === 60,
    `production: ${JSON.stringify(production)}`,
  );
  const failed = await read({ NODE_ENV: 'production', PORT: 'eighty' }).then(
    () => '',
    (error) => error.stderr,
  );
  expectThat(
    /ConfigurationError/.test(failed) &&
      failed.includes('PORT') &&
      failed.includes('DATABASE_PATH'),
    `production without DATABASE_PATH and with a bad PORT: ${failed || 'no error'}`,
  );
});

await check('README @org/core', async () => {
  const app = await start('core', process.execPath, ['readme/core.ts'], { cwd: '.' });
  try {
    const ann = await fetch(`${app.url}/users/1`);
    expectThat(ann.status === 200, `/users/1: ${ann.status}`);
    expectThat((await ann.json()).name === 'Ann', '/users/1 is not Ann');
    expectThat((await fetch(`${app.url}/users/2`)).status === 404, '/users/2 is not a 404');
    expectThat((await fetch(`${app.url}/users/two`)).status === 422, '/users/two is not a 422');
  } finally {
    await app.stop();
  }
});

await check('README @org/observability', async () => {
  const app = await start('observability', process.execPath, ['readme/observability.ts'], {
    cwd: '.',
    probe: '/healthz',
  });
  try {
    const metrics = await fetch(`${app.url}/metrics`);
    expectThat(metrics.status === 200, `/metrics: ${metrics.status}`);
  } finally {
    await app.stop();
  }
});

for (const readme of ['auth', 'security', 'testing']) {
  await check(`README @org/${readme}`, async () => {
    await exec(process.execPath, [`readme/${readme}.ts`], { cwd: here, env, timeout: 30_000 });
  });
}

for (const [name, root] of [
  ['testing guide', 'testing'],
  ['FastAPI guide', 'fastapi'],
]) {
  await check(`${name}: vitest`, async () => {
    const vitest = join(here, 'node_modules', 'vitest', 'vitest.mjs');
    try {
      await exec(process.execPath, [vitest, 'run', '--root', root], {
        cwd: here,
        env: { ...env, NODE_ENV: 'test' },
        timeout: 120_000,
      });
    } catch (error) {
      throw new Error(`${error.stdout}\n${error.stderr}`);
    }
  });
}

const seconds = ((performance.now() - started) / 1000).toFixed(0);
if (failures.length > 0) {
  console.error(`docs: ${failures.length} failed on node ${process.version} (${seconds}s)`);
  process.exit(1);
}
console.log(`docs: every example runs on node ${process.version} (${seconds}s)`);
