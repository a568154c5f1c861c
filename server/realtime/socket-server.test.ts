import { describe, expect, it } from 'vitest';
import { clientIp, originAllowed } from './socket-server.js';

describe('originAllowed', () => {
  const req = (origin: string | undefined, host = '127.0.0.1:7860') => ({ headers: { origin, host } });
  it('accepts no origin, the same host, and configured origins only', () => {
    expect(originAllowed(req(undefined), [])).toBe(true);
    expect(originAllowed(req('http://127.0.0.1:7860'), [])).toBe(true);
    expect(originAllowed(req('https://me.github.io'), ['https://me.github.io'])).toBe(true);
    expect(originAllowed(req('https://evil.example'), ['https://me.github.io'])).toBe(false);
    expect(originAllowed(req('http://127.0.0.1:7861'), [])).toBe(false);
    expect(originAllowed(req('not a url'), [])).toBe(false);
  });
});

describe('clientIp', () => {
  it('trusts X-Forwarded-For only from loopback (a local tunnel), and only its right-most untrusted hop', () => {
    expect(clientIp('127.0.0.1', { 'x-forwarded-for': '203.0.113.9, 10.0.0.1' })).toBe('10.0.0.1');
    expect(clientIp('::1', { 'x-forwarded-for': ['198.51.100.2'] })).toBe('198.51.100.2');
    expect(clientIp('203.0.113.50', { 'x-forwarded-for': '1.2.3.4' })).toBe('203.0.113.50');
    expect(clientIp('127.0.0.1', {})).toBe('127.0.0.1');
  });
});
