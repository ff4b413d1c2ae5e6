#!/usr/bin/env node
/**
 * The `org-auth` command line: signing keys and access tokens from a shell, made by the
 * package's own functions. Exit codes: 0 done, 1 failed (a file, a key), 2 wrong usage.
 *
 * @module
 */
import { type Command, UsageError } from './args.js';
import { jwks } from './jwks.js';
import { keygen } from './keygen.js';
import { token } from './token.js';

const commands: Readonly<Record<string, Command>> = { keygen, jwks, token };

const help = `Usage: org-auth <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, command]) => `  ${name.padEnd(8)} ${command.summary}`)
  .join('\n')}

Run org-auth <command> --help for the options of one.

  org-auth keygen --alg ES256 --out signing-key.json
  org-auth jwks --key signing-key.json
  TOKEN=$(org-auth token --key signing-key.json --sub user-1 --roles admin --iss https://api.example.com --aud api)`;

const stdout = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

async function main(args: readonly string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const text =
      rest[0] !== undefined && Object.hasOwn(commands, rest[0]) ? commands[rest[0]]?.help : help;
    if (name === undefined) process.stderr.write(`${help}\n`);
    else stdout(text ?? help);
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  try {
    if (command === undefined) {
      throw new UsageError(
        `unknown command "${name}"; the commands are ${Object.keys(commands).join(', ')}. Run org-auth --help.`,
      );
    }
    await command.run(rest, { stdout });
    return 0;
  } catch (error) {
    const where = command === undefined ? 'org-auth' : `org-auth ${name}`;
    process.stderr.write(`${where}: ${(error as Error).message}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
