import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { AdapterName, TlsCredentials } from '@org/test-support';

const sourceHooks = fileURLToPath(
  new URL('../../../test-support/source-hooks.mjs', import.meta.url),
);
const shutdownApp = fileURLToPath(new URL('./fixtures/shutdown-adapter.ts', import.meta.url));

/** Options of {@link startShutdownApp}. */
export interface ShutdownAppOptions {
  name: AdapterName;
  transport: 'http' | 'https';
  /** Size of the `/bye` reply. */
  bytes: number;
  tls: TlsCredentials;
  /** Gets the child as soon as it is spawned, for the caller to kill after a failure. */
  children: Set<ChildProcess>;
}

/**
 * Runs `fixtures/shutdown-adapter.ts` in a child process and resolves once it listens,
 * with its URL and its exit code to come.
 */
export async function startShutdownApp(options: ShutdownAppOptions) {
  const { name, transport, bytes, tls } = options;
  const child = spawn(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      '--import',
      sourceHooks,
      shutdownApp,
      name,
      transport,
    ],
    {
      env: { ...process.env, BODY_BYTES: String(bytes), TLS_KEY: tls.key, TLS_CERT: tls.cert },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  options.children.add(child);
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const listening = /^listening (\d+)$/.exec(line);
      if (listening) resolve(Number(listening[1]));
    });
    void exited.then((code) => reject(new Error(`exited ${code} before listening: ${stderr}`)));
  });
  return { url: `${transport}://127.0.0.1:${port}`, exited };
}
