/**
 * The verification every access-token verifier shares: jose's `jwtVerify` with a
 * key resolver, plus the rules jose leaves to the caller, and one mapping of every
 * failure to a {@link TokenError} with a fixed description.
 */
import { ConfigurationError, isHttpError } from '@org/core';
import { type JWTHeaderParameters, jwtVerify } from 'jose';
import { type AccessTokenClaims, TokenError } from '../tokens/types.js';

export const INVALID_DESCRIPTION = 'The access token is invalid.';
export const EXPIRED_DESCRIPTION = 'The access token has expired.';

/** RFC 9068 2.2: claims every access token carries. `aud` and `iss` are checked by value too. */
const REQUIRED_CLAIMS = ['iss', 'exp', 'aud', 'sub', 'iat', 'jti'];

/** RFC 8725 3.10, RFC 7515 4.1.2-4.1.6: header members that would let the token pick its own key. */
const KEY_HINTS = ['jku', 'jwk', 'x5u', 'x5c'] as const;

/** The checks of one verifier, fixed when it was created. */
export interface JwtRules {
  /** Issuers accepted; compared exactly. */
  readonly issuer: string | readonly string[];
  /** Audiences accepted; the token's `aud` must contain one. */
  readonly audience: string | readonly string[];
  /** Required `typ` (RFC 9068 2.1), or undefined to skip the check. */
  readonly typ: string | undefined;
  /** Seconds of leeway for `exp`, `nbf` and `iat`. */
  readonly clockTolerance: number;
  /** Longest accepted token, in characters. */
  readonly maxTokenLength: number;
}

/** Finds the key for a verified header, or throws; called only after jose checked `alg` and `crit`. */
export type KeyResolver = (header: JWTHeaderParameters) => CryptoKey | Promise<CryptoKey>;

/** Validates the numeric options every verifier takes; the messages name the option. */
export function checkLimits(clockTolerance: number, maxTokenLength: number): void {
  if (!Number.isFinite(clockTolerance) || clockTolerance < 0 || clockTolerance > 300) {
    throw new ConfigurationError(
      `clockTolerance must be between 0 and 300 seconds; received ${String(clockTolerance)}.`,
    );
  }
  if (!Number.isInteger(maxTokenLength) || maxTokenLength < 256) {
    throw new ConfigurationError(
      `maxTokenLength must be an integer of at least 256; received ${String(maxTokenLength)}.`,
    );
  }
}

/** A rejected token. The cause keeps a short reason for logs; never the token. */
export function invalidToken(reason: string): TokenError {
  return new TokenError('ERR_TOKEN_INVALID', INVALID_DESCRIPTION, { cause: new Error(reason) });
}

/** Throws when the header names a key source of its own or critical extensions. */
export function assertNoKeyHints(header: JWTHeaderParameters): void {
  for (const hint of KEY_HINTS) {
    if (header[hint] !== undefined) throw invalidToken(`"${hint}" header is never used`);
  }
  // RFC 7515 4.1.11: our tokens use no extensions; jose already refused unknown ones.
  if (header.crit !== undefined) throw invalidToken('"crit" header is not accepted');
}

function toTokenError(error: unknown): Error {
  // A TokenError from a resolver, or an HttpError such as a 503 when a remote JWKS is down.
  if (error instanceof TokenError || isHttpError(error)) return error as Error;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ERR_JWT_EXPIRED') {
    return new TokenError('ERR_TOKEN_EXPIRED', EXPIRED_DESCRIPTION, {
      cause: new Error('"exp" is in the past'),
    });
  }
  // jose messages name the failed check, never the token; its `payload` is dropped.
  const message = error instanceof Error ? error.message : 'verification failed';
  return invalidToken(typeof code === 'string' ? `${code}: ${message}` : message);
}

function isStringArray(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** Type checks on the claims the contract promises, which jose does not make. */
function assertClaimTypes(claims: Record<string, unknown>, nowSeconds: number, tolerance: number) {
  if (typeof claims.sub !== 'string' || claims.sub === '')
    throw invalidToken('"sub" is not a string');
  if (typeof claims.jti !== 'string' || claims.jti === '')
    throw invalidToken('"jti" is not a string');
  // RFC 8725 3.10 / RFC 7519 4.1.6: an `iat` in the future means a wrong clock or a forged token.
  if (typeof claims.iat !== 'number' || claims.iat > nowSeconds + tolerance) {
    throw invalidToken('"iat" is in the future');
  }
  if (claims.roles !== undefined && !isStringArray(claims.roles)) {
    throw invalidToken('"roles" is not an array of strings');
  }
  if (claims.scope !== undefined && typeof claims.scope !== 'string') {
    throw invalidToken('"scope" is not a string');
  }
}

function freezeDeep<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const member of Object.values(value)) freezeDeep(member);
    Object.freeze(value);
  }
  return value;
}

/** Verifies a compact JWS access token against `rules`, at the instant `now` (ms). */
export async function verifyJwt(
  token: string,
  resolveKey: KeyResolver,
  algorithms: readonly string[],
  rules: JwtRules,
  now: number,
): Promise<AccessTokenClaims> {
  // RFC 8725 3.11 in spirit: bound the work an unauthenticated input can cause, before parsing.
  if (typeof token !== 'string' || token.length === 0) throw invalidToken('no token');
  if (token.length > rules.maxTokenLength) throw invalidToken('token longer than maxTokenLength');
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(
      token,
      (header) => {
        assertNoKeyHints(header);
        return resolveKey(header);
      },
      {
        algorithms: algorithms as string[],
        issuer: rules.issuer as string | string[],
        audience: rules.audience as string | string[],
        clockTolerance: rules.clockTolerance,
        currentDate: new Date(now),
        requiredClaims: REQUIRED_CLAIMS,
        ...(rules.typ === undefined ? {} : { typ: rules.typ }),
      },
    ));
  } catch (error) {
    throw toTokenError(error);
  }
  assertClaimTypes(payload, now / 1000, rules.clockTolerance);
  return freezeDeep(payload as AccessTokenClaims);
}
