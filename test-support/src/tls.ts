import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TlsCredentials } from './transport.js';

/**
 * A fresh P-256 key and a one-day self-signed certificate for `localhost` and
 * `127.0.0.1`, made with the `openssl` command line: Node can make keys but not X.509
 * certificates. Pass `cert` as the client's `ca` to verify the server.
 */
export async function createSelfSignedCertificate(): Promise<TlsCredentials> {
  const dir = await mkdtemp(join(tmpdir(), 'org-tls-'));
  try {
    await promisify(execFile)(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
        ...['-nodes', '-subj', '/CN=localhost', '-days', '1'],
        ...['-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
        ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      ],
      { timeout: 10_000 },
    );
    return {
      key: await readFile(join(dir, 'key.pem'), 'utf8'),
      cert: await readFile(join(dir, 'cert.pem'), 'utf8'),
    };
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(
      missing ? 'the TLS tests need the openssl command line on PATH' : 'openssl failed',
      { cause: error },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
