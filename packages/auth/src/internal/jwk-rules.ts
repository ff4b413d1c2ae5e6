/**
 * What a JWK must say before it may verify signatures: the rules a key set applies to
 * each entry, whether the set is configured here (refused at start-up) or fetched
 * from an issuer (the entry is skipped).
 */

/** RFC 7518 6.2.2, 6.3.2, 6.4.1 and RFC 8037 2: the members that hold private or secret key material. */
export const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** The private members each key type defines; any other one is a malformed key. */
const PRIVATE_MEMBERS_OF: Readonly<Record<string, readonly string[]>> = {
  EC: ['d'],
  OKP: ['d'],
  RSA: ['d', 'p', 'q', 'dp', 'dq', 'qi'],
  oct: ['k'],
};

/** The private members `jwk` carries, in {@link PRIVATE_MEMBERS} order. */
export function privateMembersOf(jwk: Readonly<Record<string, unknown>>): readonly string[] {
  return PRIVATE_MEMBERS.filter((member) => jwk[member] !== undefined);
}

/**
 * Why `jwk` may not be used for `operation`, or undefined when it may.
 * RFC 7517 4.2: a `use` other than `sig` marks a key for encryption; RFC 7517 4.3:
 * `key_ops`, when present, lists every operation the key is meant for.
 */
export function purposeProblem(
  jwk: Readonly<Record<string, unknown>>,
  operation: 'sign' | 'verify',
): string | undefined {
  if (jwk.use !== undefined && jwk.use !== 'sig') {
    return `its "use" is ${JSON.stringify(jwk.use)}, not "sig"`;
  }
  const ops = jwk.key_ops;
  if (ops !== undefined && !(Array.isArray(ops) && ops.includes(operation))) {
    return `its "key_ops" does not include "${operation}"`;
  }
  return undefined;
}

/**
 * Why the private members of `jwk` do not make a key of its type, or undefined. A
 * member another type defines (`k` on an EC key), a multi-prime `oth`, or RSA primes
 * without `d` would be ignored on import and leave secret material lying in a
 * configuration that looks public.
 */
export function foreignPrivateMember(jwk: Readonly<Record<string, unknown>>): string | undefined {
  const allowed = PRIVATE_MEMBERS_OF[String(jwk.kty)] ?? [];
  const present = privateMembersOf(jwk);
  if (present.includes('oth')) return 'multi-prime RSA keys ("oth") are not supported';
  for (const member of present) {
    if (!allowed.includes(member))
      return `"${member}" does not belong in a key of type ${String(jwk.kty)}`;
  }
  if (jwk.kty === 'RSA' && present.length > 0 && jwk.d === undefined) {
    return `an RSA key with "${present[0]}" needs "d" too`;
  }
  return undefined;
}
