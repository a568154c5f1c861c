import { describe, expect, it } from 'vitest';
import { clientAddress, normalizeAddress, proxyTrust } from './client-ip.js';

const loopback = proxyTrust(['loopback']);

describe('clientAddress', () => {
  it('takes the right-most untrusted X-Forwarded-For hop, never what the client wrote left of it', () => {
    // Cloudflare appends the real address to whatever the client sent.
    expect(clientAddress('127.0.0.1', { 'x-forwarded-for': '10.0.0.1, 203.0.113.7' }, loopback)).toBe('203.0.113.7');
    expect(clientAddress('127.0.0.1', { 'x-forwarded-for': '10.0.0.2, 203.0.113.7' }, loopback)).toBe('203.0.113.7');
    // A chain of our own proxies is walked past.
    const chain = proxyTrust(['loopback', '10.1.0.0/16']);
    expect(clientAddress('127.0.0.1', { 'x-forwarded-for': '6.6.6.6, 198.51.100.4, 10.1.2.3' }, chain)).toBe('198.51.100.4');
    expect(clientAddress('::ffff:127.0.0.1', { 'x-forwarded-for': ['1.1.1.1', '198.51.100.9'] }, loopback)).toBe('198.51.100.9');
  });

  it('ignores the headers from a peer it does not trust', () => {
    expect(clientAddress('203.0.113.50', { 'x-forwarded-for': '1.2.3.4', 'cf-connecting-ip': '5.6.7.8' }, loopback)).toBe('203.0.113.50');
    expect(clientAddress('127.0.0.1', { 'x-forwarded-for': '1.2.3.4', 'cf-connecting-ip': '5.6.7.8' }, proxyTrust([]))).toBe('127.0.0.1');
  });

  it('believes CF-Connecting-IP only from the local tunnel', () => {
    expect(clientAddress('127.0.0.1', { 'x-forwarded-for': '9.9.9.9, 203.0.113.7', 'cf-connecting-ip': '203.0.113.7' }, loopback)).toBe('203.0.113.7');
    expect(clientAddress('::1', { 'cf-connecting-ip': '2001:db8::1' }, loopback)).toBe('2001:db8::1');
    // A trusted proxy that is not on this machine is not the tunnel: its CF header is ignored.
    const lan = proxyTrust(['10.0.0.0/8']);
    expect(clientAddress('10.0.0.5', { 'cf-connecting-ip': '1.2.3.4', 'x-forwarded-for': '198.51.100.1' }, lan)).toBe('198.51.100.1');
    // Garbage in the CF header falls back to X-Forwarded-For.
    expect(clientAddress('127.0.0.1', { 'cf-connecting-ip': 'nonsense', 'x-forwarded-for': '198.51.100.2' }, loopback)).toBe('198.51.100.2');
  });

  it('falls back to the peer, and normalises mapped addresses', () => {
    expect(clientAddress('127.0.0.1', {}, loopback)).toBe('127.0.0.1');
    expect(clientAddress(undefined, {}, loopback)).toBe('unknown');
    expect(normalizeAddress('::ffff:192.0.2.1')).toBe('192.0.2.1');
  });

  it('refuses bad TRUSTED_PROXIES rules with a coded error', () => {
    expect(() => proxyTrust(['not-an-ip'])).toThrow(expect.objectContaining({ code: 'invalid_params' }));
    expect(() => proxyTrust(['10.0.0.0/40'])).toThrow(expect.objectContaining({ code: 'invalid_params' }));
  });
});
