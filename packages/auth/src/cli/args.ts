/**
 * Argument parsing shared by the `org-auth` commands: `node:util` `parseArgs` in strict
 * mode, with its errors turned into one-line usage errors that name the option.
 */
import { parseArgs } from 'node:util';

/** A mistake in the command line: exit code 2, the message says which option and the fix. */
export class UsageError extends Error {
  readonly code = 'ERR_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure that is not the command line's fault (a file, a key): exit code 1. */
export class CommandError extends Error {
  readonly code = 'ERR_COMMAND';
  constructor(message: string) {
    super(message);
    this.name = 'CommandError';
  }
}

/** Where a command writes: its result to `stdout`, nothing else. */
export interface CommandOutput {
  stdout(text: string): void;
}

/** One `org-auth` command. */
export interface Command {
  /** What `org-auth --help` says about it, in a line. */
  readonly summary: string;
  /** The text of `org-auth <command> --help`. */
  readonly help: string;
  /** Runs the command with the arguments after its name. */
  run(args: readonly string[], output: CommandOutput): Promise<void>;
}

type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;
type Values<T extends OptionSpec> = {
  [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : string;
};

/** The quoted token in a `parseArgs` error message (`'--alg'`, `'extra'`). */
const quoted = (message: string): string => /'([^']*)'/.exec(message)?.[1] ?? '';

/**
 * Parses `args` against `options` (plus `--help`). Unknown options, missing values and
 * stray arguments are {@link UsageError}s naming the offender.
 */
export function parseCommandArgs<T extends OptionSpec>(
  command: string,
  args: readonly string[],
  options: T,
): Values<T> & { help?: boolean } {
  try {
    const { values } = parseArgs({
      args: [...args],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
    return values as Values<T> & { help?: boolean };
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    const token = quoted(message).replace(/ <value>$/, '');
    const fix = `Run \`org-auth ${command} --help\` for its options.`;
    switch (code) {
      case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
        throw new UsageError(`unknown option ${token}. ${fix}`);
      case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
        throw new UsageError(
          message.includes('does not take an argument')
            ? `${token} takes no value. ${fix}`
            : `${token} needs a value. ${fix}`,
        );
      case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
        throw new UsageError(
          `unexpected argument "${token}": every value follows an option. ${fix}`,
        );
      default:
        throw new UsageError(`${message} ${fix}`);
    }
  }
}

/** The value of a required option, or a {@link UsageError} that says what to pass. */
export function required(value: string | undefined, option: string, example: string): string {
  if (value === undefined || value === '') {
    throw new UsageError(`${option} is required, for example ${option} ${example}.`);
  }
  return value;
}

/** `a,b , c` as `['a', 'b', 'c']`; empty entries are dropped. */
export function list(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** A lifetime such as `900`, `90s`, `15m`, `12h` or `7d`, in whole seconds. */
export function parseDuration(value: string, option: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(value.trim());
  const seconds = match === null ? 0 : Number(match[1]) * (UNIT_SECONDS[match[2] || 's'] ?? 0);
  if (!Number.isSafeInteger(seconds) || seconds <= 0) {
    throw new UsageError(
      `${option} must be a positive lifetime such as 900, 90s, 15m, 12h or 7d; received "${value}".`,
    );
  }
  return seconds;
}

/** `value` if it is one of `choices`, else a {@link UsageError} listing them. */
export function oneOf<T extends string>(value: string, choices: readonly T[], option: string): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`${option} must be one of ${choices.join(', ')}; received "${value}".`);
  }
  return value as T;
}
