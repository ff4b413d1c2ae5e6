/**
 * Start-up checks of the options the access-token verifiers share. Each failure is a
 * ConfigurationError that names the option and the fix, thrown when the verifier is
 * created rather than as a TypeError on the first request.
 */
import { ConfigurationError } from '@org/core';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

function shown(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

/** An accepted `iss`: compared exactly (RFC 9068 4), so it must be a non-empty string. */
export function checkIssuer(option: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new ConfigurationError(
      `${option} must be a non-empty string, the exact "iss" of the tokens (for example ` +
        `"https://id.example.com/"); received ${shown(value)}.`,
    );
  }
  return value;
}

/** The accepted audience: a non-empty string, or a non-empty array of them (RFC 7519 4.1.3). */
export function checkAudience(value: unknown): string | readonly string[] {
  if (typeof value === 'string' && value !== '') return value;
  if (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((item) => typeof item === 'string' && item !== '')
  ) {
    return Object.freeze([...(value as string[])]);
  }
  throw new ConfigurationError(
    'audience must be a non-empty string, or a non-empty array of them: the "aud" this ' +
      `service accepts, for example its URL "https://api.example.com"; received ${shown(value)}.`,
  );
}

/** A JWKS URL: https, or http on a loopback host. Never taken from a token. */
export function checkJwksUri(option: string, value: unknown): string {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined) {
    throw new ConfigurationError(
      `${option} must be the absolute URL of the issuer's JWKS (for example ` +
        `"https://id.example.com/.well-known/jwks.json"); received ${shown(value)}.`,
    );
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new ConfigurationError(
      `${option} ${String(value)} must use https (http only on a loopback host).`,
    );
  }
  return value as string;
}

/** A duration option: a positive, finite number of milliseconds. */
export function positiveMilliseconds(option: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigurationError(
      `${option} must be a positive number of milliseconds; received ${String(value)}.`,
    );
  }
  return value;
}
