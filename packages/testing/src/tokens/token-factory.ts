import { randomUUID } from 'node:crypto';
import { type Clock, systemClock } from '@org/core';
import { TestingError } from '../errors/testing-error.js';
import { type JsonObject, sign } from '../internal/jws.js';
import { deriveForgeries, type PublicJwk } from './derive-forgeries.js';
import {
  type Forgery,
  type ForgeryName,
  SIGNED_FORGERIES,
  type SignedForgeryName,
} from './forgery-names.js';
import { createRefreshTokenString } from './refresh-token.js';
import { createTestKey, type TestKey } from './test-key.js';

/** Where the app's published keys come from: an `@org/auth` `KeySet`, or anything with `jwks()`. */
export interface PublicKeySource {
  /** The JWKS document the app publishes (`KeySet.jwks()`). */
  jwks(): {
    /** The published public keys, as JWKs. */
    readonly keys: readonly object[];
  };
}

/** Options of {@link createTokenFactory}. */
export interface TokenFactoryOptions {
  /** The key that signs: the same key the app's key set holds (see {@link createTestKey}). */
  key: TestKey;
  /** The app's key set, whose published keys the key-confusion forgeries use. @default only `key`'s public key */
  keySet?: PublicKeySource;
  /** `iss` of valid tokens. */
  issuer: string;
  /** `aud` of valid tokens. */
  audience: string | readonly string[];
  /** The app's clock, for `iat`, `exp` and `nbf`. @default systemClock */
  clock?: Clock;
  /** Lifetime of valid tokens in seconds. @default 900 */
  expiresIn?: number;
  /** `sub` when a call gives none. @default 'user-1' */
  subject?: string;
}

/** What one access token holds. */
export interface MintOptions {
  /** `sub`. @default the factory's subject */
  subject?: string;
  /** `roles` claim. @default not sent */
  roles?: readonly string[];
  /** `scope` claim; an array is joined with spaces. @default not sent */
  scope?: string | readonly string[];
  /** Any claims, applied last: they override the registered ones; `undefined` removes a claim. */
  claims?: Readonly<Record<string, unknown>>;
  /** Protected header members, applied last (`typ`, `kid`, `crit`...); `undefined` removes one. */
  header?: Readonly<Record<string, unknown>>;
  /** Lifetime in seconds. @default the factory's expiresIn */
  expiresIn?: number;
}

/** Mints valid and forged tokens for one app. */
export interface TokenFactory {
  /** The signing key. */
  readonly key: TestKey;
  /** A valid access token (`typ: at+jwt`), or any variation of one through `claims` and `header`. */
  accessToken(options?: MintOptions): Promise<string>;
  /** A refresh-token-shaped string that no store issued. */
  refreshToken(familyId?: string): string;
  /** One forgery, built on the token `options` describe. */
  forge(name: ForgeryName, options?: MintOptions): Promise<string>;
  /** Every forgery: the signed ones and those derived from a valid token. Each must be a 401. */
  forgeries(options?: MintOptions): Promise<Forgery[]>;
}

const HOUR = 3600;

function without(record: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

/** The claim or header change of each signed forgery, at `now` seconds. */
function signedVariant(name: SignedForgeryName, now: number, issuer: string): MintOptions {
  const attacker = 'https://attacker.example';
  switch (name) {
    case 'expired':
      return { claims: { iat: now - 2 * HOUR, exp: now - HOUR } };
    case 'not-yet-valid':
      return { claims: { nbf: now + HOUR, exp: now + 2 * HOUR } };
    case 'issued-in-future':
      return { claims: { iat: now + HOUR, exp: now + 2 * HOUR } };
    case 'missing-exp':
      return { claims: { exp: undefined } };
    case 'wrong-audience':
      return { claims: { aud: attacker } };
    case 'wrong-issuer':
      return { claims: { iss: attacker } };
    case 'issuer-array':
      return { claims: { iss: [issuer, attacker] } };
    case 'unknown-crit':
      return { header: { crit: ['x-org-unknown'], 'x-org-unknown': true } };
    case 'wrong-typ':
      return { header: { typ: 'JWT' } };
  }
}

/**
 * Creates a token factory: valid access tokens with any claims and roles, and
 * every forgery the auth package must refuse. Time comes from `clock`, so a test
 * clock shared with the app makes `expired` mean expired to the app too.
 *
 * @example
 * ```ts
 * const key = await createTestKey();
 * const keySet = createKeySet({ signingKey: await importSigningKey({ jwk: key.privateJwk }) });
 * const tokens = createTokenFactory({ key, keySet, issuer: 'https://api.test', audience: 'api', clock });
 * const admin = await tokens.accessToken({ subject: 'u1', roles: ['admin'] });
 * const expired = await tokens.forge('expired');
 * for (const forgery of await tokens.forgeries()) ... // each must be a 401
 * ```
 */
export function createTokenFactory(options: TokenFactoryOptions): TokenFactory {
  const { key, issuer, audience } = options;
  const clock = options.clock ?? systemClock;
  const expiresIn = options.expiresIn ?? 900;
  const defaultSubject = options.subject ?? 'user-1';
  if (key?.signingKey === undefined) {
    throw new TestingError(
      'ERR_TOKEN_FACTORY',
      'key must be a TestKey; create one with createTestKey().',
    );
  }
  const publicKeys = (): readonly PublicJwk[] => {
    const published = options.keySet?.jwks().keys as readonly PublicJwk[] | undefined;
    return published ?? (key.publicJwk === undefined ? [] : [key.publicJwk]);
  };
  let attacker: Promise<TestKey> | undefined;
  const attackerKey = () =>
    (attacker ??= createTestKey({ alg: key.alg, kid: `attacker-${randomUUID()}` }));

  const accessToken = (mint: MintOptions = {}): Promise<string> => {
    const iat = Math.floor(clock.now() / 1000);
    const scope = typeof mint.scope === 'string' ? mint.scope : mint.scope?.join(' ');
    const claims = without({
      iss: issuer,
      sub: mint.subject ?? defaultSubject,
      aud: audience,
      iat,
      exp: iat + (mint.expiresIn ?? expiresIn),
      jti: randomUUID(),
      roles: mint.roles === undefined ? undefined : [...mint.roles],
      scope,
      ...mint.claims,
    });
    const header = without({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...mint.header });
    return sign({ ...header, alg: String(header.alg) }, claims, key.signingKey);
  };

  const signedForgery = (name: SignedForgeryName, mint: MintOptions): Promise<string> => {
    const variant = signedVariant(name, Math.floor(clock.now() / 1000), issuer);
    return accessToken({
      ...mint,
      claims: { ...mint.claims, ...variant.claims },
      header: { ...mint.header, ...variant.header },
    });
  };

  const derived = async (mint: MintOptions) =>
    deriveForgeries(await accessToken(mint), {
      publicKeys: publicKeys(),
      attackerKey: await attackerKey(),
    });

  return {
    key,
    accessToken,
    refreshToken: createRefreshTokenString,
    async forge(name, mint = {}) {
      if (name in SIGNED_FORGERIES) return signedForgery(name as SignedForgeryName, mint);
      const found = (await derived(mint)).find((forgery) => forgery.name === name);
      if (found === undefined) {
        throw new TestingError('ERR_TOKEN_FACTORY', `No forgery "${name}" for a ${key.alg} key.`);
      }
      return found.token;
    },
    async forgeries(mint = {}) {
      const signed = await Promise.all(
        (Object.keys(SIGNED_FORGERIES) as SignedForgeryName[]).map(async (name) => ({
          name,
          description: SIGNED_FORGERIES[name],
          token: await signedForgery(name, mint),
        })),
      );
      return [...signed, ...(await derived(mint))];
    },
  };
}
