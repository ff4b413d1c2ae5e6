import { ConfigurationError } from '@org/core';
import { privateMembersOf, purposeProblem } from '../internal/jwk-rules.js';
import { importSigningKey, type JsonWebKeyInput } from './import-signing-key.js';
import type { SigningKey } from './signing-key.js';

/** A JSON Web Key Set as read from a file or an environment variable (RFC 7517 5). */
export interface JsonWebKeySetInput {
  /** The keys (RFC 7517 5.1). */
  readonly keys: readonly JsonWebKeyInput[];
}

async function importEntry(entry: string, jwk: unknown): Promise<SigningKey> {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw new ConfigurationError(`${entry} is not a JSON Web Key object.`);
  }
  const record = jwk as JsonWebKeyInput;
  // RFC 7517 9.2: a verifier holds public keys only, and a published `k` would be a shared secret.
  const secret = privateMembersOf(record);
  if (secret.length > 0) {
    throw new ConfigurationError(
      `${entry} carries the private member(s) ${secret.map((m) => `"${m}"`).join(', ')}; ` +
        'a verification key set holds public keys only. Copy the public members, as keySet.jwks() publishes them.',
    );
  }
  const problem = purposeProblem(record, 'verify');
  if (problem !== undefined) {
    throw new ConfigurationError(
      `${entry} cannot verify signatures: ${problem} (RFC 7517 4.2, 4.3). Remove it from the set.`,
    );
  }
  try {
    return await importSigningKey({ jwk: record });
  } catch (error) {
    if (error instanceof ConfigurationError)
      throw new ConfigurationError(`${entry}: ${error.message}`);
    throw error;
  }
}

/**
 * Imports the public keys of a JWK Set, such as another instance's `keySet.jwks()`, as
 * verification-only keys for `createKeySet({ verificationKeys })` or `keySet.add`.
 * Every entry must be usable, or the whole set is refused with a
 * {@link ConfigurationError} naming the entry: no private members (`d`, `p`, `q`,
 * `dp`, `dq`, `qi`, `oth`) and no secret (`k`); `use`, when present, is `sig`;
 * `key_ops`, when present, includes `verify`; no two entries share a `kid`
 * (RFC 7517 4.5); each key is EC P-256, Ed25519 or RSA of 2048 bits or more.
 *
 * @example
 * ```ts
 * const peers = await importJwks(JSON.parse(await readFile('peer-jwks.json', 'utf8')));
 * const keySet = createKeySet({ signingKey, verificationKeys: peers });
 * ```
 */
export async function importJwks(jwks: JsonWebKeySetInput): Promise<SigningKey[]> {
  const entries: unknown = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(entries) || entries.length === 0) {
    throw new ConfigurationError(
      'jwks must be a JWK Set, { "keys": [...] } with at least one key (RFC 7517 5).',
    );
  }
  const keys: SigningKey[] = [];
  const firstWithKid = new Map<string, number>();
  for (const [index, jwk] of entries.entries()) {
    const key = await importEntry(`jwks.keys[${index}]`, jwk);
    // RFC 7517 4.5: a kid names one key, or a token's kid could pick either.
    const first = firstWithKid.get(key.kid);
    if (first !== undefined) {
      throw new ConfigurationError(
        `jwks.keys[${index}] has kid "${key.kid}", as jwks.keys[${first}] does. Give each key its own kid.`,
      );
    }
    firstWithKid.set(key.kid, index);
    keys.push(key);
  }
  return keys;
}
