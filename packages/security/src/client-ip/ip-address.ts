import { BlockList, isIPv4, isIPv6 } from 'node:net';

/**
 * Address parsing shared by the client-IP resolver and the limiters: one canonical
 * text per address, so `::ffff:1.2.3.4`, `1.2.3.4` and `2001:DB8::1` vs
 * `2001:db8:0::1` can never become two different rate-limit buckets.
 */

const MAPPED_PREFIX = '::ffff:';

/**
 * The canonical text of an IP address, or undefined when `address` is not one.
 * IPv4-mapped IPv6 addresses (RFC 4291 section 2.5.5.2) become plain IPv4; IPv6 is
 * lower-case and compressed as RFC 5952 section 4 recommends; zone ids are dropped.
 *
 * @example
 * ```ts
 * normalizeIp('::ffff:192.0.2.1'); // '192.0.2.1'
 * normalizeIp('2001:DB8:0:0::1');  // '2001:db8::1'
 * ```
 */
export function normalizeIp(address: string | undefined): string | undefined {
  if (address === undefined || address === '') return undefined;
  if (!address.includes(':')) return isIPv4(address) ? address : undefined;
  if (address.length > 7 && address.slice(0, 7).toLowerCase() === MAPPED_PREFIX) {
    const tail = address.slice(7);
    if (isIPv4(tail)) return tail;
  }
  const words = parseIpv6(address);
  if (words === undefined) return undefined;
  if (isMapped(words)) return wordsToIpv4(words);
  return formatIpv6(words, 8);
}

/** The eight 16-bit groups of an IPv6 address, or undefined when it is not one. */
export function parseIpv6(address: string): number[] | undefined {
  const zone = address.indexOf('%');
  const text = zone === -1 ? address : address.slice(0, zone);
  if (!isIPv6(text)) return undefined;
  let head = text;
  const tail: number[] = [];
  const dot = text.lastIndexOf('.');
  if (dot !== -1) {
    // An embedded dotted quad fills the last 32 bits (RFC 4291 section 2.2, form 3).
    const colon = text.lastIndexOf(':');
    const parts = text.slice(colon + 1).split('.');
    const n = parts.map(Number) as [number, number, number, number];
    tail.push((n[0] << 8) | n[1], (n[2] << 8) | n[3]);
    head = text.slice(0, colon + 1);
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const gap = head.indexOf('::');
  const parse = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16));
  const words =
    gap === -1
      ? parse(head)
      : (() => {
          const left = parse(head.slice(0, gap));
          const right = parse(head.slice(gap + 2));
          const zeros = 8 - tail.length - left.length - right.length;
          return [...left, ...new Array<number>(zeros).fill(0), ...right];
        })();
  words.push(...tail);
  return words.length === 8 ? words : undefined;
}

function isMapped(words: readonly number[]): boolean {
  return (
    words[0] === 0 &&
    words[1] === 0 &&
    words[2] === 0 &&
    words[3] === 0 &&
    words[4] === 0 &&
    words[5] === 0xffff
  );
}

function wordsToIpv4(words: readonly number[]): string {
  const high = words[6] ?? 0;
  const low = words[7] ?? 0;
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/** RFC 5952 text of the first `count` groups (the rest zero): lower case, longest zero run as `::`. */
export function formatIpv6(words: readonly number[], count: number): string {
  const groups = words.slice(0, count);
  while (groups.length < 8) groups.push(0);
  let bestStart = -1;
  let bestLength = 1; // RFC 5952 section 4.2.2: a single zero group is not compressed.
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart === -1) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLength).join(':');
  return `${left}::${right}`;
}

/**
 * The rate-limit key of an address: IPv4 as it is, IPv6 cut to its first
 * `ipv6PrefixLength` bits, since one subscriber usually holds a whole /64 (RFC 6177)
 * and could otherwise rotate through 2^64 addresses to dodge a per-address limit.
 *
 * @example
 * ```ts
 * ipKey('2001:db8:1:2:aaaa::1');     // '2001:db8:1:2::/64'
 * ipKey('2001:db8:1:2:aaaa::1', 48); // '2001:db8:1::/48'
 * ipKey('::ffff:203.0.113.9');       // '203.0.113.9'
 * ```
 */
export function ipKey(address: string | undefined, ipv6PrefixLength = 64): string {
  if (address === undefined || address === '') return 'unknown';
  // Hot path: an IPv4 socket address is its own key (a key needs no validation).
  if (!address.includes(':')) return address;
  const ip = normalizeIp(address);
  if (ip === undefined) return 'unknown';
  if (!ip.includes(':') || ipv6PrefixLength >= 128) return ip;
  const words = parseIpv6(ip) as number[];
  const full = ipv6PrefixLength >> 4;
  const bits = ipv6PrefixLength & 15;
  if (bits !== 0) words[full] = (words[full] ?? 0) & (0xffff << (16 - bits)) & 0xffff;
  return `${formatIpv6(words, bits === 0 ? full : full + 1)}/${ipv6PrefixLength}`;
}

/** Loopback, private (RFC 1918, RFC 4193), link-local and CGNAT (RFC 6598) ranges. */
const PRIVATE_RANGES = new BlockList();
for (const [network, prefix] of [
  ['127.0.0.0', 8],
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['169.254.0.0', 16],
  ['100.64.0.0', 10],
] as const)
  PRIVATE_RANGES.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const)
  PRIVATE_RANGES.addSubnet(network, prefix, 'ipv6');

/** Whether a normalized address is loopback, private, link-local or CGNAT: where a proxy usually sits. */
export function isPrivateAddress(ip: string): boolean {
  return PRIVATE_RANGES.check(ip, ip.includes(':') ? 'ipv6' : 'ipv4');
}
