import { describe, expect, it } from 'vitest';
import { ipKey, isPrivateAddress, normalizeIp } from './ip-address.js';

describe('normalizeIp', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['::FFFF:192.0.2.1', '192.0.2.1'],
    ['::ffff:c000:201', '192.0.2.1'],
    ['0:0:0:0:0:ffff:c000:0201', '192.0.2.1'],
    ['2001:DB8:0:0::1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::1', '::1'],
    ['::', '::'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ])('%s is %s', (input, expected) => {
    expect(normalizeIp(input)).toBe(expected);
  });

  it.each([
    undefined,
    '',
    'unknown',
    '_hidden',
    '1.2.3',
    '999.1.1.1',
    '1.2.3.4.5',
    'g::1',
    '1:2:3',
  ])('rejects %s', (input) => {
    expect(normalizeIp(input)).toBeUndefined();
  });
});

describe('ipKey', () => {
  it('keeps IPv4 whole and maps IPv4-mapped IPv6 onto it', () => {
    expect(ipKey('203.0.113.9')).toBe('203.0.113.9');
    expect(ipKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
  });

  it('groups IPv6 by /64 so one subscriber is one key', () => {
    const a = ipKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd');
    const b = ipKey('2001:db8:1:2::1');
    const c = ipKey('2001:DB8:1:2:0:0:0:ffff');
    expect(a).toBe('2001:db8:1:2::/64');
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(ipKey('2001:db8:1:3::1')).not.toBe(a);
  });

  it('honours other prefix lengths, including ones that cut a group', () => {
    expect(ipKey('2001:db8:1:2::1', 48)).toBe('2001:db8:1::/48');
    expect(ipKey('2001:db8:1:2::1', 56)).toBe('2001:db8:1::/56');
    expect(ipKey('2001:db8:1:2ff::1', 56)).toBe('2001:db8:1:200::/56');
    expect(ipKey('2001:db8::7', 128)).toBe('2001:db8::7');
  });

  it('puts unparseable addresses in one bucket rather than failing', () => {
    expect(ipKey(undefined)).toBe('unknown');
    expect(ipKey('nonsense:')).toBe('unknown');
  });
});

describe('isPrivateAddress', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '::1',
    'fd00::1',
    'fe80::1',
    '100.64.0.1',
  ])('%s is private', (ip) => expect(isPrivateAddress(ip)).toBe(true));
  it.each(['8.8.8.8', '172.32.0.1', '2001:db8::1', '192.0.2.1'])('%s is public', (ip) =>
    expect(isPrivateAddress(ip)).toBe(false),
  );
});
