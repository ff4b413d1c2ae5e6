/** `org-auth keygen`: a new signing key, written to a file only its owner can read. */
import { generateKeyPair, type KeyObject, randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { importSigningKey, type JsonWebKeyInput, type SigningAlgorithm } from '../index.js';
import {
  type Command,
  CommandError,
  oneOf,
  parseCommandArgs,
  required,
  UsageError,
} from './args.js';

const ALGORITHMS: readonly SigningAlgorithm[] = ['ES256', 'EdDSA', 'RS256', 'HS256'];
const FORMATS = ['jwk', 'pem'] as const;

const generatePair = promisify(generateKeyPair);

/** The private key of a new pair for `alg`, with the parameters `generateSigningKey` uses. */
async function generatePrivateKey(alg: Exclude<SigningAlgorithm, 'HS256'>): Promise<KeyObject> {
  switch (alg) {
    case 'ES256':
      return (await generatePair('ec', { namedCurve: 'P-256' })).privateKey;
    case 'EdDSA':
      return (await generatePair('ed25519')).privateKey;
    case 'RS256':
      return (await generatePair('rsa', { modulusLength: 2048 })).privateKey;
  }
}

/** A new key as a private JWK, and as PKCS#8 PEM unless it is an HS256 secret. */
async function generateKey(
  alg: SigningAlgorithm,
): Promise<{ jwk: JsonWebKeyInput; pem: string | undefined }> {
  // RFC 7518 3.2: an HS256 secret as long as the hash output.
  if (alg === 'HS256') {
    return { jwk: { kty: 'oct', k: randomBytes(32).toString('base64url') }, pem: undefined };
  }
  const privateKey = await generatePrivateKey(alg);
  const { kty, ...members } = privateKey.export({ format: 'jwk' });
  const pem = String(privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return { jwk: { kty: String(kty), ...members }, pem };
}

const help = `Usage: org-auth keygen --out <file> [--alg ES256|EdDSA|RS256|HS256] [--format jwk|pem] [--kid <id>] [--force]

Generates a signing key and writes it to <file>, readable by its owner only (mode 0600).

Options:
  --out <file>     where to write the private key (required)
  --alg <alg>      ES256 (default), EdDSA, RS256 (2048 bits) or HS256 (a 256-bit secret)
  --format <fmt>   jwk (JSON, the default) or pem (PKCS#8); the default is pem when
                   <file> ends in .pem. HS256 keys are written as JWK only.
  --kid <id>       key id stored in the JWK (default: its RFC 7638 thumbprint, which is
                   also the kid an app derives from a PEM file)
  --force          replace <file> if it exists
  -h, --help       show this help

Load the file in the app with importSigningKey({ jwk: JSON.parse(text) }) or
importSigningKey({ pem: text }).`;

export const keygen: Command = {
  summary: 'generate a signing key into a file (JWK or PEM, mode 0600)',
  help,
  async run(args, output) {
    const values = parseCommandArgs('keygen', args, {
      alg: { type: 'string' },
      out: { type: 'string' },
      format: { type: 'string' },
      kid: { type: 'string' },
      force: { type: 'boolean' },
    });
    if (values.help === true) return output.stdout(help);
    const out = required(values.out, '--out', 'signing-key.json');
    const alg = oneOf(values.alg ?? 'ES256', ALGORITHMS, '--alg');
    const format = oneOf(
      values.format ?? (out.endsWith('.pem') ? 'pem' : 'jwk'),
      FORMATS,
      '--format',
    );
    if (format === 'pem' && alg === 'HS256') {
      throw new UsageError('--format pem does not hold an HS256 secret; use --format jwk.');
    }
    if (format === 'pem' && values.kid !== undefined) {
      throw new UsageError(
        '--kid needs --format jwk: a PEM file has no place for a key id (its kid is the key thumbprint).',
      );
    }
    if (values.kid === '') throw new UsageError('--kid must not be empty.');

    const { jwk, pem } = await generateKey(alg);
    // Imported as an app imports it: validates the key and derives the kid the app will use.
    const kid = values.kid === undefined ? {} : { kid: values.kid };
    const key = await importSigningKey({ jwk, alg, ...kid });
    const text =
      format === 'pem' && pem !== undefined
        ? pem
        : `${JSON.stringify({ ...jwk, kid: key.kid, alg, use: 'sig' }, null, 2)}\n`;
    await writeKeyFile(out, text, values.force === true);
    output.stdout(
      `wrote the ${alg} ${alg === 'HS256' ? 'secret' : 'private key'} "${key.kid}" to ${out} (${format}, mode 0600)`,
    );
  },
};

/**
 * Creates `path` with mode 0600; `wx` refuses an existing file. `--force` removes it
 * first, because writing over an existing file would keep its (maybe wider) mode.
 */
async function writeKeyFile(path: string, text: string, force: boolean): Promise<void> {
  if (force) await rm(path, { force: true });
  try {
    await writeFile(path, text, { mode: 0o600, flag: 'wx' });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      throw new CommandError(
        `${path} exists; pass --force to replace it, or choose another --out.`,
      );
    }
    throw new CommandError(`cannot write ${path} (${code ?? 'error'}).`);
  }
}
