import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { freePort } from '@org/testing';

/** The six examples, by folder name. */
export const EXAMPLES = ['express', 'fastify', 'koa', 'hono', 'node-http', 'nest'] as const;
export type ExampleName = (typeof EXAMPLES)[number];

/** Variables the examples read: never inherited from the test runner's environment. */
const EXAMPLE_VARIABLES = [
  'PORT',
  'DATABASE_PATH',
  'REDIS_URL',
  'SEED_ADMIN_EMAIL',
  'SEED_ADMIN_PASSWORD',
  'CORS_ORIGINS',
  'TRUST_PROXY',
  'RATE_LIMIT_PER_MINUTE',
  'NODE_ENV',
  'SIGNING_KEY_FILE',
  'LOG_LEVEL',
  'SHUTDOWN_DELAY_MS',
];

/** One example running as a child process, exactly as `pnpm start` runs it. */
export interface RunningExample {
  readonly name: ExampleName;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The last lines it wrote (stdout and stderr), for failure messages. */
  output(): string;
  /**
   * Everything it wrote since it started (up to {@link MAX_SEARCHED_BYTES}): stdout,
   * then stderr, each unbroken, so a secret split between two chunks is still whole.
   */
  everything(): string;
  /** Whether {@link everything} contains `text`: for secrets that must never be logged. */
  logged(text: string): boolean;
  /** Whether it has exited. */
  readonly exited: boolean;
  /** Sends a signal and resolves with the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Options of {@link startExample}. */
export interface StartOptions {
  /** Environment of the example (strings); PORT is chosen when absent. */
  env?: Readonly<Record<string, string>>;
  /** Wait for `/readyz` (database and Redis) rather than `/healthz`. @default false */
  waitForReady?: boolean;
  /** Milliseconds to wait for it to answer (generous: CI machines are small and busy). @default 90000 */
  timeoutMs?: number;
}

const MAX_LINES = 200;
/** Output kept for {@link RunningExample.logged}: far above what one test run writes. */
const MAX_SEARCHED_BYTES = 64 * 1024 * 1024;

/** Every child still running, killed when the test worker exits however it exits. */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Kills every example this worker started that is still running (a filtered-out group's). */
export async function stopAllExamples(): Promise<void> {
  await Promise.all(
    [...children].map((child) => {
      if (child.exitCode !== null || child.signalCode !== null) return undefined;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      return exited;
    }),
  );
}

/** Runs `start` once, on first call; later calls share its promise (also its failure). */
export function lazily<T>(start: () => Promise<T>): () => Promise<T> {
  let started: Promise<T> | undefined;
  return () => {
    if (started === undefined) {
      started = start();
      // Handled here so an early failure is not "unhandled" before the group awaits it.
      started.catch(() => {});
    }
    return started;
  };
}

/**
 * Starts `node src/main.ts` in `examples/<name>` on a free port with `env`, and waits
 * until it answers `/healthz` (or `/readyz`). Its output is kept in a ring buffer,
 * read so the pipe never fills.
 */
export async function startExample(
  name: ExampleName,
  options: StartOptions = {},
): Promise<RunningExample> {
  if (options.env?.PORT !== undefined) return launch(name, Number(options.env.PORT), options);
  // A free port can be taken between freePort() and the child's listen(), by another
  // test's outgoing connection among others (same ephemeral range): then try another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(name, await freePort(), options);
    } catch (error) {
      if (attempt === 3 || !String(error).includes('EADDRINUSE')) throw error;
    }
  }
}

async function launch(
  name: ExampleName,
  port: number,
  options: StartOptions,
): Promise<RunningExample> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !EXAMPLE_VARIABLES.includes(key) && !key.startsWith('VITEST')) {
      env[key] = value;
    }
  }
  Object.assign(env, { NODE_ENV: 'production', ...options.env, PORT: String(port) });
  const cwd = fileURLToPath(new URL(`../../../${name}/`, import.meta.url));
  const child = spawn(process.execPath, ['src/main.ts'], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  // Everything written, for logged(); a chunk may end mid-line, so each stream keeps its tail.
  const everything = { stdout: [] as string[], stderr: [] as string[] };
  let searchedBytes = 0;
  const tails = { stdout: '', stderr: '' };
  const collector = (stream: keyof typeof tails) => (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    if (searchedBytes < MAX_SEARCHED_BYTES) {
      everything[stream].push(text);
      searchedBytes += text.length;
    }
    const parts = (tails[stream] + text).split('\n');
    tails[stream] = parts.pop() ?? '';
    for (const line of parts) {
      if (line === '') continue;
      lines.push(line);
      if (lines.length > MAX_LINES) lines.shift();
    }
  };
  child.stdout?.on('data', collector('stdout'));
  child.stderr?.on('data', collector('stderr'));
  children.add(child);
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  let exited = false;
  void exit.then(() => {
    exited = true;
    children.delete(child);
  });
  const url = `http://127.0.0.1:${port}`;
  const running: RunningExample = {
    name,
    url,
    port,
    output: () => [...lines, tails.stdout, tails.stderr].filter((l) => l !== '').join('\n'),
    everything: () => `${everything.stdout.join('')}\n${everything.stderr.join('')}`,
    logged: (text) =>
      everything.stdout.join('').includes(text) || everything.stderr.join('').includes(text),
    get exited() {
      return exited;
    },
    async stop(signal = 'SIGTERM') {
      if (exited) return exit;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      try {
        return await exit;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  await waitUntilUp(running, child, options);
  return running;
}

async function waitUntilUp(
  running: RunningExample,
  child: ChildProcess,
  options: StartOptions,
): Promise<void> {
  const probe = options.waitForReady === true ? '/readyz' : '/healthz';
  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  while (Date.now() < deadline) {
    if (running.exited) {
      throw new Error(
        `${running.name} exited with ${child.exitCode} before answering:\n${running.output()}`,
      );
    }
    try {
      const response = await fetch(running.url + probe, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await running.stop('SIGKILL');
  throw new Error(`${running.name} did not answer ${probe} in time:\n${running.output()}`);
}
