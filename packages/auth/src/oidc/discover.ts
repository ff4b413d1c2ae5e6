/**
 * Fetches and checks an OpenID Provider configuration document (OpenID Connect
 * Discovery 1.0 sections 4 and 4.3). Private to @org/auth.
 */
import { ConfigurationError } from '@org/core';
import { OidcDiscoveryError } from './oidc-discovery-error.js';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
const MAX_DOCUMENT_BYTES = 256 * 1024;

/** Whether `url` may be fetched: https, or http on a loopback host when allowed. */
export function isAllowedUrl(url: URL, allowHttpOnLoopback: boolean): boolean {
  if (url.protocol === 'https:') return true;
  return allowHttpOnLoopback && url.protocol === 'http:' && LOOPBACK.has(url.hostname);
}

/** The issuer's discovery URL, checked at start-up. */
export function discoveryUrlOf(
  option: string,
  issuer: string,
  discoveryUrl: string | undefined,
  allowHttpOnLoopback: boolean,
): string {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new ConfigurationError(
      `${option} must be an absolute URL such as "https://id.example.com/"; received ${JSON.stringify(issuer)}.`,
    );
  }
  // OpenID Connect Discovery 1.0 section 2: an issuer is an https URL with no query or fragment.
  if (url.search !== '' || url.hash !== '' || !isAllowedUrl(url, allowHttpOnLoopback)) {
    throw new ConfigurationError(
      `${option} ${issuer} must be an https URL without query or fragment (http only on a loopback host with allowHttpOnLoopback: true).`,
    );
  }
  if (discoveryUrl !== undefined) {
    let custom: URL | undefined;
    try {
      custom = new URL(discoveryUrl);
    } catch {
      custom = undefined;
    }
    if (custom === undefined || !isAllowedUrl(custom, allowHttpOnLoopback)) {
      throw new ConfigurationError(
        `${option}'s discoveryUrl ${String(discoveryUrl)} must be an absolute https URL.`,
      );
    }
    return discoveryUrl;
  }
  // Section 4.1: a terminating "/" of the issuer is removed before the well-known path is appended.
  return `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
}

async function readCapped(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    size += chunk.value.byteLength;
    if (size > MAX_DOCUMENT_BYTES) {
      await reader.cancel();
      throw new Error(`the document is larger than ${MAX_DOCUMENT_BYTES} bytes`);
    }
    chunks.push(chunk.value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export interface DiscoverOptions {
  readonly issuer: string;
  readonly url: string;
  readonly timeout: number;
  readonly fetch: typeof globalThis.fetch;
  readonly allowHttpOnLoopback: boolean;
}

/** The `jwks_uri` of the issuer; rejects with an {@link OidcDiscoveryError}. */
export async function discoverJwksUri(options: DiscoverOptions): Promise<string> {
  const { issuer, url } = options;
  let document: unknown;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeout);
  try {
    const response = await options.fetch(url, {
      signal: controller.signal,
      redirect: 'error',
      headers: { accept: 'application/json' },
    });
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
    document = JSON.parse(await readCapped(response));
  } catch (cause) {
    throw new OidcDiscoveryError(
      issuer,
      `${url} could not be read (${String((cause as Error)?.message ?? cause)})`,
      { cause },
    );
  } finally {
    clearTimeout(timer);
  }
  if (typeof document !== 'object' || document === null) {
    throw new OidcDiscoveryError(issuer, `${url} is not a JSON object`);
  }
  const { issuer: published, jwks_uri: jwksUri } = document as Record<string, unknown>;
  // OpenID Connect Discovery 1.0 section 4.3: the issuer in the document MUST be identical
  // to the configured one, else an attacker's document could vouch for another issuer's keys.
  if (published !== issuer) {
    throw new OidcDiscoveryError(
      issuer,
      `the document names the issuer ${JSON.stringify(published)}, not the configured one`,
    );
  }
  let jwks: URL | undefined;
  try {
    jwks = typeof jwksUri === 'string' ? new URL(jwksUri) : undefined;
  } catch {
    jwks = undefined;
  }
  if (jwks === undefined || !isAllowedUrl(jwks, options.allowHttpOnLoopback)) {
    throw new OidcDiscoveryError(
      issuer,
      `its jwks_uri ${JSON.stringify(jwksUri)} is not an https URL`,
    );
  }
  return jwksUri as string;
}
