import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { PostgresNotInstalledError } from './postgres-errors.js';

/** Where Debian and Ubuntu install each major version: `/usr/lib/postgresql/<version>/bin`. */
const DEBIAN_ROOT = '/usr/lib/postgresql';

/** The user and group the server runs as. */
export interface ServerUser {
  readonly uid: number;
  readonly gid: number;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function hasServer(directory: string): boolean {
  return isExecutable(join(directory, 'initdb')) && isExecutable(join(directory, 'postgres'));
}

function newestDebianVersion(): string | undefined {
  let versions: string[];
  try {
    versions = readdirSync(DEBIAN_ROOT).filter((name) => /^\d+(\.\d+)?$/.test(name));
  } catch {
    return undefined;
  }
  versions.sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  return versions.map((version) => join(DEBIAN_ROOT, version, 'bin')).find(hasServer);
}

/**
 * The directory holding `initdb` and `postgres`: the one asked for, else the first on
 * PATH that has both (Homebrew, a source build), else the newest Debian version.
 * Debian keeps them off PATH, behind its `pg_ctlcluster` wrappers.
 */
export function findBinDirectory(asked: string | undefined): string {
  if (asked !== undefined) {
    if (hasServer(asked)) return asked;
    throw new PostgresNotInstalledError(`There is no initdb and postgres in ${asked}.`);
  }
  const onPath = (process.env.PATH ?? '')
    .split(delimiter)
    .find((directory) => directory !== '' && hasServer(directory));
  const found = onPath ?? newestDebianVersion();
  if (found === undefined) {
    throw new PostgresNotInstalledError(
      `initdb and postgres were found neither on PATH nor in ${DEBIAN_ROOT}/<version>/bin.`,
    );
  }
  return found;
}

/**
 * Who runs the server: the current user, or, when that is root (which `initdb` and
 * `postgres` refuse), the `postgres` system user the Debian package creates.
 */
export function findServerUser(): ServerUser | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  let passwd = '';
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    // Reported below.
  }
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name === 'postgres' && uid !== undefined && gid !== undefined) {
      return { uid: Number(uid), gid: Number(gid) };
    }
  }
  throw new PostgresNotInstalledError(
    'The tests run as root, and PostgreSQL refuses to: there is no postgres user to run it as.',
  );
}
