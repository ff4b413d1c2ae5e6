/** `org-auth token`: an access token signed with a key file, exactly as the app's signer makes it. */
import { createAccessTokenSigner, createKeySet } from '../index.js';
import {
  type Command,
  CommandError,
  list,
  parseCommandArgs,
  parseDuration,
  required,
} from './args.js';
import { readKeyFile } from './key-file.js';

const help = `Usage: org-auth token --key <file> --sub <id> --iss <issuer> --aud <audience>
                      [--roles a,b] [--scopes a,b] [--ttl 15m]

Prints an access token (RFC 9068: typ at+jwt; iss, aud, sub, iat, exp, jti, and roles
and scope when given) signed with the private key in <file>, and nothing else:

  TOKEN=$(org-auth token --key signing-key.json --sub user-1 --iss https://api.example.com --aud api)

Options:
  --key <file>        the private key (JWK or PEM) the app signs and verifies with
  --sub <id>          the subject: the user id (required)
  --iss <issuer>      the issuer the app's verifier expects (required)
  --aud <audience>    the audience the app's verifier expects; a comma list for
                      several (required)
  --roles <a,b>       the roles claim
  --scopes <a,b>      the scope claim (sent space-separated)
  --ttl <lifetime>    lifetime: 900, 90s, 15m, 12h or 7d (default 15m)
  -h, --help          show this help`;

export const token: Command = {
  summary: 'mint an access token for a subject with a key file',
  help,
  async run(args, output) {
    const values = parseCommandArgs('token', args, {
      key: { type: 'string' },
      sub: { type: 'string' },
      roles: { type: 'string' },
      scopes: { type: 'string' },
      ttl: { type: 'string' },
      iss: { type: 'string' },
      aud: { type: 'string' },
    });
    if (values.help === true) return output.stdout(help);
    const path = required(values.key, '--key', 'signing-key.json');
    const subject = required(values.sub, '--sub', 'user-1');
    const issuer = required(values.iss, '--iss', 'https://api.example.com');
    const audience = list(required(values.aud, '--aud', 'api')) ?? [];
    const expiresIn = parseDuration(values.ttl ?? '15m', '--ttl');
    const roles = list(values.roles);
    const scope = list(values.scopes);

    const key = await readKeyFile(path);
    if (!key.canSign) {
      throw new CommandError(`${path} holds a public key; signing needs the private key.`);
    }
    const signer = createAccessTokenSigner({
      keySet: createKeySet({ signingKey: key }),
      issuer,
      audience: audience.length === 1 ? (audience[0] as string) : audience,
      expiresIn,
    });
    const signed = await signer.sign({
      subject,
      ...(roles === undefined ? {} : { roles }),
      ...(scope === undefined ? {} : { scope }),
    });
    output.stdout(signed.token);
  },
};
