import { readFile } from 'node:fs/promises';
import { generateSigningKey, importSigningKey, type SigningKey } from '@org/auth';
import { ConfigurationError } from '@org/core';
import type { Redis } from 'ioredis';

/**
 * The key that signs access tokens: the private key in `SIGNING_KEY_FILE` (PEM, or a
 * JWK as JSON), else an ES256 key generated now. A generated key suits one instance
 * only: the others could not verify its tokens.
 */
export async function loadSigningKey(file: string | undefined): Promise<SigningKey> {
  if (file === undefined) return generateSigningKey('ES256');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new ConfigurationError(
      `SIGNING_KEY_FILE cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'error'}); point it at a PEM or JWK private key.`,
    );
  }
  let jwk: Record<string, unknown> | undefined;
  if (text.trimStart().startsWith('{')) {
    try {
      jwk = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new ConfigurationError('SIGNING_KEY_FILE holds invalid JSON; expected a JWK.');
    }
  }
  const key = await (jwk === undefined
    ? importSigningKey({ pem: text })
    : importSigningKey({ jwk: jwk as { kty: string } }));
  if (!key.canSign || key.publicJwk === undefined) {
    throw new ConfigurationError(
      'SIGNING_KEY_FILE must hold an asymmetric private key (ES256, EdDSA or RS256), whose public half is served as JWKS.',
    );
  }
  return key;
}

/**
 * An ioredis client that fails fast while Redis is down instead of queueing: commands
 * reject at once when disconnected, never wait more than a second, and the client
 * reconnects by itself within a second. Failures reach clients as fallbacks or 503s.
 * A command that failed stays failed: it is not sent again after a reconnect, so a
 * refresh answered 503 can never rotate (or revoke) the family later behind the
 * client's back.
 */
export async function createRedisClient(url: string, logger: RedisLogger): Promise<Redis> {
  // Loaded only when REDIS_URL is set: a single-instance start does not pay for it.
  const { Redis } = await import('ioredis');
  const client = new Redis(url, {
    maxRetriesPerRequest: 1,
    commandTimeout: 1000,
    connectTimeout: 2000,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
  });
  // One line per outage, not one per reconnect attempt.
  let down = false;
  client.on('error', (error: Error) => {
    if (down) return;
    down = true;
    logger.warn(
      { err: error },
      'redis unavailable: limits fall back to this instance, sessions answer 503',
    );
  });
  client.on('ready', () => {
    if (down) logger.info('redis available again');
    down = false;
  });
  return client;
}

/** The part of the logger the Redis client reports to. */
export interface RedisLogger {
  warn(fields: object, message: string): void;
  info(message: string): void;
}
