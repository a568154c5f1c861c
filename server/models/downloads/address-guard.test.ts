import { describe, expect, it } from 'vitest';
import { checkUrlHost, guardedLookup, isPublicAddress, parseIpv6 } from './address-guard.js';

describe('isPublicAddress', () => {
  const refused = [
    '127.0.0.1', '127.255.0.9', '0.0.0.0', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254',
    '100.64.0.1', '224.0.0.1', '255.255.255.255', '192.0.2.10',
    '::', '::1', 'fe80::1', 'fe80::1%eth0', 'fc00::1', 'fd12:3456::1', 'ff02::1',
    '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', '::127.0.0.1',
    '64:ff9b::7f00:1', '2002:7f00:1::1', '2001:db8::1', '2001:0:4136:e378::1', 'not-an-ip', '',
  ];
  const allowed = ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '2a00:1450:4001:81b::200e', '::ffff:8.8.8.8', '64:ff9b::808:808'];

  it.each(refused)('refuses %s', (ip) => expect(isPublicAddress(ip)).toBe(false));
  it.each(allowed)('allows %s', (ip) => expect(isPublicAddress(ip)).toBe(true));
});

describe('parseIpv6', () => {
  it('expands :: and a dotted IPv4 tail', () => {
    expect(parseIpv6('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    expect(parseIpv6('2001:db8::1')).toEqual([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    expect(parseIpv6('1:2:3:4:5:6:7:8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseIpv6('1::2::3')).toBeUndefined();
    expect(parseIpv6('12345::1')).toBeUndefined();
  });
});

describe('checkUrlHost', () => {
  const strict = (a: string) => isPublicAddress(a);
  it('refuses other protocols and private literal hosts', () => {
    expect(() => checkUrlHost(new URL('ftp://example.com/x'), strict)).toThrow(expect.objectContaining({ code: 'invalid_params' }));
    expect(() => checkUrlHost(new URL('http://[::1]:80/x'), strict)).toThrow(expect.objectContaining({ code: 'forbidden_address' }));
    // The URL parser turns decimal and hex IPv4 forms into dotted ones, so they are caught too.
    expect(() => checkUrlHost(new URL('http://2130706433/x'), strict)).toThrow(expect.objectContaining({ code: 'forbidden_address' }));
    expect(() => checkUrlHost(new URL('http://0x7f.1/x'), strict)).toThrow(expect.objectContaining({ code: 'forbidden_address' }));
    expect(() => checkUrlHost(new URL('https://8.8.8.8/x'), strict)).not.toThrow();
  });
});

describe('guardedLookup', () => {
  it('refuses a name that resolves to loopback, and answers in both callback shapes when allowed', async () => {
    const refusedErr = await new Promise<unknown>((r) => guardedLookup(strictPolicy)('localhost', {}, (err) => r(err)));
    expect(refusedErr).toMatchObject({ code: 'forbidden_address' });
    const all = await new Promise<unknown>((r) => guardedLookup(() => true)('localhost', { all: true }, (_e, addrs) => r(addrs)));
    expect(Array.isArray(all) && all.length > 0).toBe(true);
    const one = await new Promise<unknown[]>((r) => guardedLookup(() => true)('localhost', { family: 4 }, (_e, a, f) => r([a, f])));
    expect(one).toEqual(['127.0.0.1', 4]);
  });
});

function strictPolicy(a: string): boolean {
  return isPublicAddress(a);
}
