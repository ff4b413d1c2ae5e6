import { ConfigurationError, type Context, clientIpKey, type Plugin } from '@org/core';
import { PROXY_HEADER_PARSERS, type ProxyHeader } from './forwarded-headers.js';
import { isPrivateAddress, normalizeIp } from './ip-address.js';
import { compileTrustProxy, type TrustPredicate, type TrustProxy } from './trust-proxy.js';

/** Where warnings go: anything with a `warn(message)` method, such as `console` or a pino logger. */
export interface WarningLogger {
  /** Logs one warning line. */
  warn(message: string): void;
}

/** Options of {@link createClientIpResolver} and {@link clientIp}. */
export interface ClientIpOptions {
  /**
   * Which proxies may tell us the client's address; see {@link TrustProxy}. Leave it
   * off unless every request reaches the app through proxies you run: a client that
   * talks to the app directly could otherwise pick any address it likes.
   * @default false
   */
  trustProxy?: TrustProxy | undefined;
  /**
   * The header your proxies write: `x-forwarded-for`, RFC 7239 `forwarded`, or
   * nginx's `x-real-ip`. Only this one is read; the others are ignored, since a
   * client could send them through a proxy that passes them on untouched.
   * @default 'x-forwarded-for'
   */
  proxyHeader?: ProxyHeader;
  /**
   * Receives the one warning logged when a private-network peer sends
   * `X-Forwarded-For` while `trustProxy` is off (a proxy the app does not trust yet).
   * @default console
   */
  logger?: WarningLogger;
}

/** Finds the client's address for one request. Create one with {@link createClientIpResolver}. */
export interface ClientIpResolver {
  /** The client's canonical address (`::ffff:` prefix dropped), or undefined when the socket has none. */
  resolve(ctx: Context): string | undefined;
}

const FACTORY = 'clientIp';

class Resolver implements ClientIpResolver {
  readonly #trusted: TrustPredicate;
  readonly #trustsNobody: boolean;
  readonly #header: ProxyHeader;
  readonly #parse: (typeof PROXY_HEADER_PARSERS)[ProxyHeader];
  readonly #logger: WarningLogger;
  #warned = false;

  constructor(options: ClientIpOptions) {
    const header = options.proxyHeader ?? 'x-forwarded-for';
    if (!Object.hasOwn(PROXY_HEADER_PARSERS, header)) {
      throw new ConfigurationError(
        `${FACTORY}: \`proxyHeader\` must be one of ${Object.keys(PROXY_HEADER_PARSERS).join(', ')}; received ${JSON.stringify(header)}.`,
      );
    }
    this.#header = header;
    this.#parse = PROXY_HEADER_PARSERS[header];
    this.#trusted = compileTrustProxy(options.trustProxy, FACTORY);
    this.#trustsNobody = options.trustProxy === undefined || options.trustProxy === false;
    this.#logger = options.logger ?? console;
  }

  resolve(ctx: Context): string | undefined {
    const peer = normalizeIp(ctx.request.ip);
    if (peer === undefined) return undefined;
    if (this.#trustsNobody) {
      if (!this.#warned) this.#warnOnce(ctx, peer);
      return peer;
    }
    if (!this.#trusted(peer, 0)) return peer;
    const value = ctx.request.header(this.#header);
    if (value === undefined) return peer;
    // Walk from the right: each trusted hop vouches for the address to its left;
    // the first hop we do not trust is the client. An entry that is not an address
    // ends the walk at the last trusted hop.
    const chain = this.#parse(value);
    let current = peer;
    for (let hop = 1; chain.length > 0; hop++) {
      const next = chain.pop();
      if (next === undefined) break;
      current = next;
      if (!this.#trusted(current, hop)) break;
    }
    return current;
  }

  #warnOnce(ctx: Context, peer: string): void {
    if (ctx.request.header('x-forwarded-for') === undefined || !isPrivateAddress(peer)) return;
    this.#warned = true;
    this.#logger.warn(
      `@org/security clientIp: a request from ${peer}, a private address, carried X-Forwarded-For while trustProxy is off, so every client behind that proxy shares one address and one rate limit. If a proxy you run forwards to this app, set trustProxy (for example trustProxy: 1, or trustProxy: ['private']). This warning is logged once.`,
    );
  }
}

/**
 * Creates the one client-IP resolver an app needs; the {@link clientIp} plugin
 * runs it for every request.
 *
 * @example
 * ```ts
 * const resolver = createClientIpResolver({ trustProxy: ['loopback', '10.0.0.0/8'] });
 * resolver.resolve(ctx); // '203.0.113.7'
 * ```
 * @throws A {@link ConfigurationError} when a `trustProxy` entry or `proxyHeader` is invalid.
 */
export function createClientIpResolver(options: ClientIpOptions = {}): ClientIpResolver {
  return new Resolver(options);
}

class ClientIpPlugin implements Plugin {
  readonly name = 'clientIp';
  readonly #resolver: ClientIpResolver;
  constructor(resolver: ClientIpResolver) {
    this.#resolver = resolver;
  }
  onRequest(ctx: Context): void {
    const ip = this.#resolver.resolve(ctx);
    if (ip !== undefined) ctx.set(clientIpKey, ip);
  }
}

/**
 * A plugin that resolves the client's address once per request and stores it, so
 * `ctx.clientIp` (read by limiters, the login guard and access logs) is the real
 * client behind your proxies. Put it first in the plugin list.
 *
 * @example
 * ```ts
 * createToolkit({ plugins: [clientIp({ trustProxy: 1 }), securityHeaders(), rateLimitPlugin()] });
 * ```
 */
export function clientIp(options: ClientIpOptions = {}): Plugin {
  return new ClientIpPlugin(new Resolver(options));
}
