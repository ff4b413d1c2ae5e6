import { normalizeIp } from './ip-address.js';

/**
 * Readers of the headers proxies use to pass on the client's address. Each returns
 * the chain of addresses left to right (client first, nearest proxy last), with an
 * entry that is not an address (`unknown`, `_hidden`, garbage) kept as undefined so
 * the hop walk stops there.
 */

/** The header a trusted proxy writes. */
export type ProxyHeader = 'x-forwarded-for' | 'forwarded' | 'x-real-ip';

type Chain = (string | undefined)[];

/** One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:80`, `[::1]:80`). */
function parseNode(raw: string): string | undefined {
  let text = raw.trim();
  if (text.startsWith('"') && text.endsWith('"') && text.length >= 2) text = text.slice(1, -1);
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    return end === -1 ? undefined : normalizeIp(text.slice(1, end));
  }
  const colon = text.indexOf(':');
  if (colon !== -1 && colon === text.lastIndexOf(':')) text = text.slice(0, colon);
  return normalizeIp(text);
}

/** `X-Forwarded-For: client, proxy1, proxy2` (de facto; repeated headers arrive joined with commas). */
export function parseXForwardedFor(value: string): Chain {
  return value.split(',').map(parseNode);
}

/**
 * RFC 7239 section 4: `Forwarded: for=192.0.2.43, for="[2001:db8:cafe::17]:4711";proto=https`.
 * Elements are comma-separated, pairs semicolon-separated, values tokens or quoted
 * strings (which may contain `,` and `;`). Only `for` is read.
 */
export function parseForwarded(value: string): Chain {
  const chain: Chain = [];
  let forValue: string | undefined;
  let seenFor = false;
  let pair = '';
  let quoted = false;
  const endPair = () => {
    const eq = pair.indexOf('=');
    if (eq !== -1 && pair.slice(0, eq).trim().toLowerCase() === 'for') {
      forValue = pair.slice(eq + 1).trim();
      seenFor = true;
    }
    pair = '';
  };
  const endElement = () => {
    endPair();
    // RFC 7239 section 6: `for` is optional; an element without one says nothing usable.
    chain.push(seenFor && forValue !== undefined ? parseNode(forValue) : undefined);
    forValue = undefined;
    seenFor = false;
  };
  for (let i = 0; i < value.length; i++) {
    const char = value[i] as string;
    if (quoted) {
      if (char === '\\' && i + 1 < value.length) {
        pair += value[++i];
        continue;
      }
      if (char === '"') quoted = false;
      pair += char;
    } else if (char === '"') {
      quoted = true;
      pair += char;
    } else if (char === ';') endPair();
    else if (char === ',') endElement();
    else pair += char;
  }
  endElement();
  return chain;
}

/** `X-Real-IP: client` (nginx): one address; a list means a client added its own, so only the last counts. */
export function parseXRealIp(value: string): Chain {
  const comma = value.lastIndexOf(',');
  return [parseNode(comma === -1 ? value : value.slice(comma + 1))];
}

/** The reader for a {@link ProxyHeader}. */
export const PROXY_HEADER_PARSERS: Readonly<Record<ProxyHeader, (value: string) => Chain>> = {
  'x-forwarded-for': parseXForwardedFor,
  forwarded: parseForwarded,
  'x-real-ip': parseXRealIp,
};
