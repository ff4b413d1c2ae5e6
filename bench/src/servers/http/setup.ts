// What every HTTP benchmark server shares: the token rules, the key, the log file,
// the Redis connection and the counters the runner reads back (SIGUSR2 -> stats file).
import { writeFileSync } from 'node:fs';
import { importSigningKey, type SigningKey } from '@org/auth';
import type { Redis } from 'ioredis';
import pino from 'pino';

export const ISSUER = 'https://bench.example.com';
export const AUDIENCE = 'bench-api';
export const SUBJECT = 'u1';
export const ROLE = 'user';
/** Every stack counts every request, but nobody is ever limited: each response must be 2xx. */
export const HUGE_LIMIT = 1_000_000_000;
export const WINDOW_MS = 60_000;

export type Alg = 'HS256' | 'ES256';
/** Where the rate limiter counts: `redis-lease` is the Redis store's quota leasing (ours only). */
export type StoreKind = 'memory' | 'redis' | 'redis-lease';
export type Framework = 'express' | 'fastify' | 'koa' | 'hono' | 'node';

/** The verification key of the run, as the runner hands it to each server. */
export interface KeyMaterial {
  readonly alg: Alg;
  /**
   * HS256: the secret, 43 printable characters (base64url of 32 random bytes) whose
   * UTF-8 bytes are the key, so every library (some take only strings) uses the same key.
   */
  readonly secret?: string;
  /** ES256: the PKCS#8 private key (our key set imports it; kid = its thumbprint). */
  readonly privatePem?: string;
  /** ES256: the SPKI public key (what the peer stacks verify with). */
  readonly publicPem?: string;
}

/** Everything a server needs besides its framework and stack, from `BENCH_SETUP`. */
export interface ServerSetup {
  readonly key: KeyMaterial;
  readonly store: StoreKind;
  readonly redisPort?: number;
  /** The access log file. */
  readonly logFile: string;
  /** Where the server writes its counters when it receives SIGUSR2. */
  readonly statsFile: string;
}

/** Counters a server reports to the runner. */
export interface ServerStats {
  /** Commands the server's ioredis client sent. */
  redisCommandsSent: number;
  /** Rate-limit store failures (a timeout would silently move hits to the insurance store). */
  storeErrors: number;
}

export function readSetup(): ServerSetup {
  const text = process.env.BENCH_SETUP;
  if (text === undefined) throw new Error('BENCH_SETUP is not set: start this server from run.ts');
  return JSON.parse(text) as ServerSetup;
}

export const stats: ServerStats = { redisCommandsSent: 0, storeErrors: 0 };

export function reportStatsOnSignal(file: string): void {
  process.on('SIGUSR2', () => writeFileSync(file, JSON.stringify(stats)));
}

/** The response body of every stack: same fields and size as the bare servers'. */
export function userBody(sub: string, roles: readonly string[]): Record<string, unknown> {
  return { id: sub, name: 'Ada Lovelace', roles };
}

/** The HS256 secret, or the ES256 public PEM: what the peer JWT libraries take. */
export function peerVerifyKey(key: KeyMaterial): string {
  return (key.alg === 'HS256' ? key.secret : key.publicPem) as string;
}

/** The run's key as a toolkit signing key: the secret for HS256, the private PEM for ES256. */
export function ourSigningKey(key: KeyMaterial): Promise<SigningKey> {
  return key.alg === 'HS256'
    ? importSigningKey({ secret: key.secret as string })
    : importSigningKey({ pem: key.privatePem as string });
}

/** An ioredis client whose sent commands are counted. */
export async function connectRedis(setup: ServerSetup): Promise<Redis> {
  if (setup.redisPort === undefined) throw new Error('redis store without BENCH redis port');
  // Loaded only for Redis variants: ioredis alone adds about 9 MiB of RSS.
  const { Redis } = await import('ioredis');
  const client = new Redis(setup.redisPort, '127.0.0.1');
  await client.ping();
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
    stats.redisCommandsSent++;
    return send(...args);
  }) as Redis['sendCommand'];
  return client;
}

const destinations: pino.DestinationStream[] = [];

/**
 * The access-log destination of the peer stacks: one buffered, asynchronous pino file
 * stream (pino's advice for throughput: one write(2) per 4 KiB instead of one per
 * line). The toolkit's stacks write through its own `fileDestination` instead.
 */
export function logDestination(file: string): pino.DestinationStream {
  const destination = pino.destination({ dest: file, sync: false, minLength: 4096 });
  destinations.push(destination);
  return destination;
}

/** On SIGTERM (the runner's stop): write what the log streams still buffer, then exit. */
export function flushLogsOnTerm(): void {
  process.on('SIGTERM', () => {
    for (const destination of destinations) {
      try {
        (destination as { flushSync?: () => void }).flushSync?.();
      } catch {
        // A write still in flight: the line count check will say so.
      }
    }
    process.exit(0);
  });
}

export function ready(): void {
  process.stdout.write('ready\n');
}
