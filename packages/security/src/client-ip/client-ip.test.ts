import { ConfigurationError, createToolkit, defineDependency } from '@org/core';
import { adapters, type RunningApp } from '@org/test-support';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeContext } from '../internal/fake-context.js';
import { clientIp, createClientIpResolver } from './client-ip.js';

const SPOOFS = {
  'x-forwarded-for': '6.6.6.6',
  forwarded: 'for=6.6.6.7',
  'x-real-ip': '6.6.6.8',
};

function resolve(
  options: Parameters<typeof createClientIpResolver>[0],
  ip: string,
  headers: Record<string, string> = {},
) {
  const logger = { warn: vi.fn() };
  return createClientIpResolver({ logger, ...options }).resolve(fakeContext({ ip, headers }));
}

describe('createClientIpResolver', () => {
  it('uses the socket address and ignores every forwarding header while trustProxy is off', () => {
    expect(resolve({}, '203.0.113.5', SPOOFS)).toBe('203.0.113.5');
    expect(resolve({ trustProxy: false, proxyHeader: 'forwarded' }, '203.0.113.5', SPOOFS)).toBe(
      '203.0.113.5',
    );
    expect(resolve({ proxyHeader: 'x-real-ip' }, '::ffff:203.0.113.5', SPOOFS)).toBe('203.0.113.5');
  });

  it('with one trusted hop takes the right-most X-Forwarded-For entry, not a spoofed left one', () => {
    const headers = { 'x-forwarded-for': '6.6.6.6, 198.51.100.7' };
    expect(resolve({ trustProxy: 1 }, '10.0.0.2', headers)).toBe('198.51.100.7');
    expect(
      resolve({ trustProxy: 2 }, '10.0.0.2', {
        'x-forwarded-for': '6.6.6.6, 198.51.100.7, 10.0.0.9',
      }),
    ).toBe('198.51.100.7');
    expect(resolve({ trustProxy: 3 }, '10.0.0.2', headers)).toBe('6.6.6.6');
    expect(resolve({ trustProxy: 1 }, '10.0.0.2')).toBe('10.0.0.2');
    expect(resolve({ trustProxy: '1' }, '10.0.0.2', headers)).toBe('198.51.100.7');
  });

  it('with a CIDR list walks left through trusted proxies and stops at the first untrusted hop', () => {
    const options = { trustProxy: ['loopback', '10.0.0.0/8'] };
    const chain = { 'x-forwarded-for': '6.6.6.6, 198.51.100.7, 10.1.1.1, 10.2.2.2' };
    expect(resolve(options, '127.0.0.1', chain)).toBe('198.51.100.7');
    // The peer itself is not a proxy we know: its headers are not believed.
    expect(resolve(options, '192.0.2.1', chain)).toBe('192.0.2.1');
    expect(resolve({ trustProxy: 'private' }, '172.20.0.3', chain)).toBe('198.51.100.7');
    expect(
      resolve({ trustProxy: ['10.0.0.0/8'] }, '10.9.9.9', {
        'x-forwarded-for': '10.1.1.1, 10.2.2.2',
      }),
    ).toBe('10.1.1.1');
  });

  it('accepts a predicate', () => {
    const trustProxy = (address: string, hop: number) => hop === 0 || address === '10.1.1.1';
    expect(
      resolve({ trustProxy }, '10.0.0.2', { 'x-forwarded-for': '1.1.1.1, 2.2.2.2, 10.1.1.1' }),
    ).toBe('2.2.2.2');
  });

  it('reads RFC 7239 Forwarded: quoted IPv6 with port, IPv4 with port, obfuscated nodes', () => {
    const options = { trustProxy: 1, proxyHeader: 'forwarded' } as const;
    expect(
      resolve(options, '10.0.0.2', {
        forwarded: 'for=6.6.6.6, for="[2001:DB8:cafe::17]:4711";proto=https',
      }),
    ).toBe('2001:db8:cafe::17');
    expect(
      resolve(options, '10.0.0.2', { forwarded: 'for="192.0.2.60:8080";by=203.0.113.43' }),
    ).toBe('192.0.2.60');
    expect(
      resolve(options, '10.0.0.2', {
        forwarded: 'For=192.0.2.60;proto="h,t;tp", for=198.51.100.17',
      }),
    ).toBe('198.51.100.17');
    // `unknown` ends the walk at the last trusted hop rather than inventing a client.
    expect(resolve(options, '10.0.0.2', { forwarded: 'for=unknown' })).toBe('10.0.0.2');
    expect(resolve(options, '10.0.0.2', { forwarded: 'proto=https' })).toBe('10.0.0.2');
    // X-Forwarded-For is not read when the proxy writes Forwarded.
    expect(resolve(options, '10.0.0.2', { 'x-forwarded-for': '6.6.6.6' })).toBe('10.0.0.2');
  });

  it('reads X-Real-IP from a trusted proxy, last value only', () => {
    const options = { trustProxy: ['loopback'], proxyHeader: 'x-real-ip' } as const;
    expect(resolve(options, '127.0.0.1', { 'x-real-ip': '6.6.6.6, 198.51.100.2' })).toBe(
      '198.51.100.2',
    );
  });

  it('maps IPv4-mapped addresses anywhere in the chain', () => {
    expect(
      resolve({ trustProxy: 1 }, '::ffff:10.0.0.2', { 'x-forwarded-for': '::ffff:198.51.100.7' }),
    ).toBe('198.51.100.7');
    expect(
      resolve({ trustProxy: ['10.0.0.0/8'] }, '::ffff:10.0.0.2', {
        'x-forwarded-for': '[::ffff:198.51.100.7]:443',
      }),
    ).toBe('198.51.100.7');
  });

  it('warns once when a private peer sends X-Forwarded-For while trustProxy is off', () => {
    const logger = { warn: vi.fn() };
    const resolver = createClientIpResolver({ logger });
    resolver.resolve(
      fakeContext({ ip: '198.51.100.1', headers: { 'x-forwarded-for': '1.1.1.1' } }),
    );
    resolver.resolve(fakeContext({ ip: '10.0.0.2' }));
    expect(logger.warn).not.toHaveBeenCalled();
    for (let i = 0; i < 5; i++) {
      resolver.resolve(fakeContext({ ip: '10.0.0.2', headers: { 'x-forwarded-for': '1.1.1.1' } }));
    }
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0]?.[0]).toMatch(/trustProxy/);
  });

  it.each([
    [{ trustProxy: ['10.0.0.0/33'] }, /10\.0\.0\.0\/33/],
    [{ trustProxy: ['internal'] }, /"internal"/],
    [{ trustProxy: -1 }, /hop count/],
    [{ trustProxy: [] }, /non-empty/],
    [{ trustProxy: true as unknown as false }, /trustProxy: true/],
    [{ proxyHeader: 'x-client-ip' as 'x-real-ip' }, /proxyHeader/],
  ])('rejects bad options at start-up: %o', (options, message) => {
    expect(() => createClientIpResolver(options)).toThrow(ConfigurationError);
    expect(() => createClientIpResolver(options)).toThrow(message);
  });
});

describe.each(adapters)('clientIp plugin on $name', (fixture) => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  const whoami = defineDependency({ name: 'whoami', resolve: (ctx) => ctx.clientIp });
  const start = async (options: Parameters<typeof clientIp>[0]) => {
    const toolkit = createToolkit({ plugins: [clientIp({ logger: { warn() {} }, ...options })] });
    app = await fixture.start(toolkit, [
      {
        method: 'GET',
        path: '/ip',
        dependencies: { client: whoami },
        handler: (_ctx, v) => ({ body: { ip: v.client } }),
      },
    ]);
    return app.url;
  };

  it('ignores spoofed X-Forwarded-For, Forwarded and X-Real-IP while trustProxy is off', async () => {
    const url = await start({});
    const res = await fetch(`${url}/ip`, { headers: SPOOFS });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ip: '127.0.0.1' });
  });

  it('uses the right-most X-Forwarded-For hop with trustProxy: 1', async () => {
    const url = await start({ trustProxy: 1 });
    const res = await fetch(`${url}/ip`, {
      headers: { 'x-forwarded-for': '6.6.6.6, 2001:db8::5' },
    });
    expect(await res.json()).toEqual({ ip: '2001:db8::5' });
  });
});
