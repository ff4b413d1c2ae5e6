/** Forgeries made from any valid token and the public keys: no private key needed. */
export type DerivedForgeryName =
  | 'alg-none'
  | 'alg-None'
  | 'alg-NONE'
  | 'alg-none-signed'
  | 'alg-None-signed'
  | 'alg-NONE-signed'
  | 'alg-lowercase'
  | `alg-relabelled-${string}`
  | 'tampered-payload'
  | 'stripped-signature'
  | 'two-part'
  | 'hs256-public-key-pem'
  | 'hs256-public-key-jwk'
  | 'hs256-public-key-der'
  | 'kid-path-traversal'
  | 'kid-sql-injection'
  | 'unknown-kid'
  | 'foreign-key'
  | 'embedded-jwk'
  | 'jku'
  | 'x5u'
  | 'jwe-shaped'
  | 'garbage'
  | 'oversize'
  | 'refresh-token-as-access';

/** Forgeries signed with the app's own key, wrong in one claim or header member only. */
export type SignedForgeryName =
  | 'expired'
  | 'not-yet-valid'
  | 'issued-in-future'
  | 'missing-exp'
  | 'wrong-audience'
  | 'wrong-issuer'
  | 'issuer-array'
  | 'unknown-crit'
  | 'wrong-typ';

/** Every forgery the token factory makes. */
export type ForgeryName = DerivedForgeryName | SignedForgeryName;

/** A forged token, and what it tries. Every one of them must be a 401. */
export interface Forgery {
  /** Stable name, usable in test titles and `only`/`skip` lists. */
  readonly name: ForgeryName;
  /** The attack, in a sentence, with its reference. */
  readonly description: string;
  /** The token to send as `Authorization: Bearer <token>`. */
  readonly token: string;
}

/** The signed forgeries, with their descriptions. */
export const SIGNED_FORGERIES: Readonly<Record<SignedForgeryName, string>> = Object.freeze({
  expired: 'signed by the app key, expired an hour ago (RFC 7519 4.1.4)',
  'not-yet-valid': 'signed by the app key, nbf an hour ahead (RFC 7519 4.1.5)',
  'issued-in-future': 'signed by the app key, iat an hour ahead (RFC 8725 3.10)',
  'missing-exp': 'signed by the app key, no exp: it would never expire (RFC 9068 2.2)',
  'wrong-audience': 'signed by the app key for another audience (RFC 8725 3.9)',
  'wrong-issuer': 'signed by the app key with another issuer (RFC 8725 3.8)',
  'issuer-array': 'signed by the app key, iss an array holding the right issuer (RFC 7519 4.1.1)',
  'unknown-crit': 'signed by the app key with an unknown critical header (RFC 7515 4.1.11)',
  'wrong-typ': 'signed by the app key with typ JWT, not at+jwt: an ID token (RFC 9068 2.1)',
});

/** Names of the derived forgeries every algorithm gets (the relabelled ones vary by algorithm). */
export const DERIVED_FORGERY_NAMES: readonly Exclude<
  DerivedForgeryName,
  `alg-relabelled-${string}` | `hs256-${string}`
>[] = Object.freeze([
  'alg-none',
  'alg-None',
  'alg-NONE',
  'alg-none-signed',
  'alg-None-signed',
  'alg-NONE-signed',
  'alg-lowercase',
  'tampered-payload',
  'stripped-signature',
  'two-part',
  'kid-path-traversal',
  'kid-sql-injection',
  'unknown-kid',
  'foreign-key',
  'embedded-jwk',
  'jku',
  'x5u',
  'jwe-shaped',
  'garbage',
  'oversize',
  'refresh-token-as-access',
]);

/** The key-confusion forgeries, made when a public key is known. */
export const KEY_CONFUSION_FORGERY_NAMES = Object.freeze([
  'hs256-public-key-pem',
  'hs256-public-key-jwk',
  'hs256-public-key-der',
] as const);
