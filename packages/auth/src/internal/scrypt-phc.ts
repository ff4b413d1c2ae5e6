/**
 * scrypt hashes in the PHC string format:
 * `$scrypt$ln=<log2 N>,r=<block size>,p=<parallelization>$<salt>$<hash>`, salt and
 * hash in standard base64 without padding (the PHC string format's B64), as
 * passlib writes them (with `+` where passlib's adapted base64 has `.`).
 */
import { scrypt as scryptCallback } from 'node:crypto';

/** The cost parameters of one scrypt hash. */
export interface ScryptParameters {
  /** log2 of N, the CPU/memory cost. */
  readonly logN: number;
  /** Block size r. */
  readonly r: number;
  /** Parallelization p. */
  readonly p: number;
}

/** A parsed scrypt PHC string. */
export interface ScryptHash extends ScryptParameters {
  readonly salt: Buffer;
  readonly hash: Buffer;
}

/** Bounds on parameters read from storage, so a tampered row cannot exhaust memory. */
const LIMITS = { logN: [10, 22], r: [1, 32], p: [1, 16] } as const;

const PATTERN =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/.]{11,}={0,2})\$([A-Za-z0-9+/.]{22,}={0,2})$/;

function fromB64(text: string): Buffer {
  return Buffer.from(text.replaceAll('.', '+'), 'base64');
}

function toB64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}

/** Whether the numbers are inside the accepted bounds. */
export function withinLimits(parameters: ScryptParameters): boolean {
  return (Object.keys(LIMITS) as (keyof ScryptParameters)[]).every((name) => {
    const [min, max] = LIMITS[name];
    const value = parameters[name];
    return Number.isInteger(value) && value >= min && value <= max;
  });
}

/** Parses a PHC scrypt string, or returns undefined for anything else. */
export function parseScryptHash(text: string): ScryptHash | undefined {
  const match = PATTERN.exec(text);
  if (match === null) return undefined;
  const [, logN, r, p, salt, hash] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const parsed = {
    logN: Number(logN),
    r: Number(r),
    p: Number(p),
    salt: fromB64(salt),
    hash: fromB64(hash),
  };
  return withinLimits(parsed) ? parsed : undefined;
}

/** Serializes to the PHC string format. */
export function formatScryptHash(value: ScryptHash): string {
  return `$scrypt$ln=${value.logN},r=${value.r},p=${value.p}$${toB64(value.salt)}$${toB64(value.hash)}`;
}

/** Derives `length` bytes with scrypt on the libuv thread pool. */
export function deriveScrypt(
  password: string,
  salt: Buffer,
  parameters: ScryptParameters,
  length: number,
): Promise<Buffer> {
  const N = 2 ** parameters.logN;
  const { r, p } = parameters;
  // scrypt needs 128 * N * r bytes (RFC 7914 2); leave room over Node's 32 MiB default.
  const maxmem = 256 * N * r + 16 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    scryptCallback(password, salt, length, { N, r, p, maxmem }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}
