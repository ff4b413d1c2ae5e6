import { BlockList, isIPv4 } from 'node:net';
import { ConfigurationError } from '@org/core';
import { normalizeIp } from './ip-address.js';

/** Named address ranges accepted in a `trustProxy` list. */
export type TrustProxyPreset = 'loopback' | 'linklocal' | 'private';

/**
 * Which proxies may tell us the client's address:
 * - `false`: none; the socket address is the client (the safe default).
 * - a number `n`: the `n` hops nearest to this server are proxies; the client is the
 *   address `n` hops in from the right of the chain.
 * - a list of CIDR ranges, single addresses or presets (`'loopback'`,
 *   `'linklocal'`, `'private'`): proxies are the hops whose address is in the list.
 * - a function `(address, hop) => boolean`: `hop` 0 is the socket peer.
 *
 * A string is read as a comma-separated list, or as a hop count when it is a number,
 * so `process.env.TRUST_PROXY` can be passed as it is.
 */
export type TrustProxy =
  | false
  | number
  | string
  | readonly string[]
  | ((address: string, hop: number) => boolean);

/** Decides whether hop `hop` (0 is the socket peer), at `address`, is a proxy we trust. */
export type TrustPredicate = (address: string, hop: number) => boolean;

const PRESETS: Readonly<Record<TrustProxyPreset, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  // RFC 1918 and RFC 4193 unique local addresses.
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

const NEVER: TrustPredicate = () => false;

function addRange(list: BlockList, entry: string, factory: string): void {
  const text = entry.trim();
  const slash = text.indexOf('/');
  const network = normalizeIp(slash === -1 ? text : text.slice(0, slash));
  const family = network === undefined ? undefined : isIPv4(network) ? 'ipv4' : 'ipv6';
  const max = family === 'ipv4' ? 32 : 128;
  const prefix = slash === -1 ? max : Number(text.slice(slash + 1));
  if (
    network === undefined ||
    family === undefined ||
    !Number.isInteger(prefix) ||
    prefix < 0 ||
    prefix > max
  ) {
    throw new ConfigurationError(
      `${factory}: \`trustProxy\` entry ${JSON.stringify(entry)} is not an address, a CIDR range (10.0.0.0/8, fd00::/8) or a preset (${Object.keys(PRESETS).join(', ')}).`,
    );
  }
  list.addSubnet(network, prefix, family);
}

/**
 * Turns a {@link TrustProxy} option into a predicate, once, at start-up.
 * @throws A {@link ConfigurationError} when an entry is invalid, naming it.
 */
export function compileTrustProxy(
  trustProxy: TrustProxy | undefined,
  factory: string,
): TrustPredicate {
  if (trustProxy === undefined || trustProxy === false) return NEVER;
  if (typeof trustProxy === 'function') return trustProxy;
  if (typeof trustProxy === 'string' && /^\s*\d+\s*$/.test(trustProxy)) {
    // An environment variable such as TRUST_PROXY=1.
    return compileTrustProxy(Number(trustProxy), factory);
  }
  if (typeof trustProxy === 'number') {
    if (!Number.isInteger(trustProxy) || trustProxy < 0) {
      throw new ConfigurationError(
        `${factory}: \`trustProxy\` as a hop count must be a non-negative integer; received ${trustProxy}.`,
      );
    }
    const hops = trustProxy;
    return (_address, hop) => hop < hops;
  }
  if ((trustProxy as unknown) === true) {
    throw new ConfigurationError(
      `${factory}: \`trustProxy: true\` would let any client choose its own address. Pass the number of proxies in front of the app (trustProxy: 1) or their addresses (trustProxy: ['loopback', '10.0.0.0/8']).`,
    );
  }
  const entries = typeof trustProxy === 'string' ? trustProxy.split(',') : trustProxy;
  if (!Array.isArray(entries) || entries.length === 0) {
    throw new ConfigurationError(
      `${factory}: \`trustProxy\` must be false, a hop count, a non-empty list of CIDR ranges or presets, or a function.`,
    );
  }
  const list = new BlockList();
  for (const entry of entries as readonly string[]) {
    const preset = PRESETS[entry.trim() as TrustProxyPreset];
    if (preset) for (const range of preset) addRange(list, range, factory);
    else addRange(list, entry, factory);
  }
  return (address) => list.check(address, address.includes(':') ? 'ipv6' : 'ipv4');
}
