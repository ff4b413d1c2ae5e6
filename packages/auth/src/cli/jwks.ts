/** `org-auth jwks`: the public JWKS of a key file, as the app's jwksHandler serves it. */
import { createKeySet } from '../index.js';
import { type Command, CommandError, parseCommandArgs, required } from './args.js';
import { readKeyFile } from './key-file.js';

const help = `Usage: org-auth jwks --key <file>

Prints the JSON Web Key Set (RFC 7517 5) of the key in <file>: its public members
only, never a private key. Give it to services that verify your tokens
(importJwks, createRemoteJwksVerifier).

Options:
  --key <file>   a key written by org-auth keygen: JWK (JSON) or PEM, private or public
  -h, --help     show this help`;

export const jwks: Command = {
  summary: 'print the public JWKS of a key file',
  help,
  async run(args, output) {
    const values = parseCommandArgs('jwks', args, { key: { type: 'string' } });
    if (values.help === true) return output.stdout(help);
    const path = required(values.key, '--key', 'signing-key.json');
    const key = await readKeyFile(path);
    if (key.publicJwk === undefined) {
      throw new CommandError(
        `${path} holds an HS256 secret: symmetric keys have no public JWKS (verifiers need the secret itself).`,
      );
    }
    const document = createKeySet({ verificationKeys: [key] }).jwks();
    output.stdout(JSON.stringify(document, null, 2));
  },
};
