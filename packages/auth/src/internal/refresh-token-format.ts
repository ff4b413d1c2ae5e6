import { createHash, randomBytes } from 'node:crypto';

/**
 * The refresh token's wire format: `<family id>.<secret>`, where the family id is
 * 128 random bits and the secret 256 random bits, both base64url without padding
 * (66 characters in all). Clients treat it as opaque. The family id lets a store
 * keep every record of a family under one key (one Redis Cluster slot) without a
 * lookup; the secret is what makes the token unguessable. Only the SHA-256 of the
 * whole token is ever stored.
 */

const FAMILY_ID_BYTES = 16;
const SECRET_BYTES = 32;
const FORMAT = /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/;

/** A token and what a store keeps of it. */
export interface MintedToken {
  readonly token: string;
  readonly familyId: string;
  readonly hash: string;
}

/** SHA-256 of a token, base64url: the only form a store ever sees. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** A new random family id. */
export function newFamilyId(): string {
  return randomBytes(FAMILY_ID_BYTES).toString('base64url');
}

/** A new token of `familyId` with 256 bits from the CSPRNG. */
export function mintToken(familyId: string): MintedToken {
  const token = `${familyId}.${randomBytes(SECRET_BYTES).toString('base64url')}`;
  return { token, familyId, hash: hashToken(token) };
}

/**
 * The family id and hash of a presented token, or undefined when it cannot be one
 * of ours: a malformed token never reaches the store.
 */
export function parseToken(token: unknown): { familyId: string; hash: string } | undefined {
  if (typeof token !== 'string' || token.length !== 66 || !FORMAT.test(token)) return undefined;
  return { familyId: token.slice(0, 22), hash: hashToken(token) };
}
