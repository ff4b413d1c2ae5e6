/** Reads the key file the `jwks` and `token` commands take: a JWK (JSON) or a PEM key. */
import { readFile } from 'node:fs/promises';
import { importSigningKey, type JsonWebKeyInput, type SigningKey } from '../index.js';
import { CommandError } from './args.js';

/**
 * The key in `path`, imported with `importSigningKey` exactly as an app imports it, so
 * its `kid` (the JWK's own, else the RFC 7638 thumbprint) is the one the app uses.
 */
export async function readKeyFile(path: string): Promise<SigningKey> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'error';
    throw new CommandError(
      `cannot read ${path} (${code}); pass a key file written by \`org-auth keygen\`.`,
    );
  }
  try {
    if (!text.trimStart().startsWith('{')) return await importSigningKey({ pem: text });
    let jwk: JsonWebKeyInput;
    try {
      jwk = JSON.parse(text) as JsonWebKeyInput;
    } catch {
      throw new CommandError(`${path} is neither a PEM key nor valid JSON (a JWK).`);
    }
    return await importSigningKey({ jwk });
  } catch (error) {
    if (error instanceof CommandError) throw error;
    throw new CommandError(`${path}: ${(error as Error).message}`);
  }
}
