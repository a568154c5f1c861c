// The one rule that says which address a request comes from, for REST and Socket.IO alike (rate
// limits are keyed on it). Proxies append the address they saw to X-Forwarded-For, so only the
// right end of the header is trustworthy: walk it from the right past our own trusted proxies and
// take the first hop we do not trust. Everything left of that hop was written by the client. When
// the peer is the local tunnel (cloudflared on loopback), Cloudflare's CF-Connecting-IP, which its
// edge always overwrites, names the client exactly.
import { BlockList, isIP } from 'node:net';
import { EaselError } from '../protocol/errors.js';

export interface ProxyTrust {
  /** Does the server trust this address to report the client's address (a proxy of ours)? */
  trusts(address: string): boolean;
  /** Is this address the local tunnel, whose CF-Connecting-IP is believed? */
  isLocalTunnel(address: string): boolean;
}

/** `::ffff:1.2.3.4` → `1.2.3.4`, strips a zone id; other strings unchanged. */
export function normalizeAddress(address: string): string {
  const a = address.trim().split('%')[0]!;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  return mapped ? mapped[1]! : a;
}

function addRule(list: BlockList, rule: string): void {
  if (rule === 'loopback') {
    list.addSubnet('127.0.0.0', 8, 'ipv4');
    list.addAddress('::1', 'ipv6');
    return;
  }
  const [addr, bits] = rule.split('/');
  const family = isIP(addr ?? '');
  if (!family) throw new EaselError('invalid_params', `TRUSTED_PROXIES: "${rule}" is not an address, a CIDR range or "loopback"`, { field: 'TRUSTED_PROXIES' });
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (bits === undefined) list.addAddress(addr!, type);
  else {
    const prefix = Number(bits);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
      throw new EaselError('invalid_params', `TRUSTED_PROXIES: bad prefix length in "${rule}"`, { field: 'TRUSTED_PROXIES' });
    }
    list.addSubnet(addr!, prefix, type);
  }
}

function contains(list: BlockList, address: string): boolean {
  const a = normalizeAddress(address);
  const family = isIP(a);
  return family !== 0 && list.check(a, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Builds the trust from `TRUSTED_PROXIES` rules (addresses, CIDR ranges, `loopback`). The local
 * tunnel is a loopback peer, and only when loopback is trusted at all.
 *
 * @example proxyTrust(['loopback', '10.0.0.0/8'])
 */
export function proxyTrust(rules: readonly string[]): ProxyTrust {
  const trusted = new BlockList();
  for (const r of rules) addRule(trusted, r);
  const loopback = new BlockList();
  addRule(loopback, 'loopback');
  return {
    trusts: (address) => contains(trusted, address),
    isLocalTunnel: (address) => contains(loopback, address) && contains(trusted, address),
  };
}

const header = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.join(',') : v);

/**
 * The client's address for rate limits.
 *
 * @example clientAddress('127.0.0.1', { 'x-forwarded-for': '10.0.0.9, 203.0.113.7' }, proxyTrust(['loopback'])) // '203.0.113.7'
 */
export function clientAddress(peer: string | undefined, headers: Record<string, string | string[] | undefined>, trust: ProxyTrust): string {
  const self = normalizeAddress(peer ?? '') || 'unknown';
  if (!trust.trusts(self)) return self;
  if (trust.isLocalTunnel(self)) {
    const cf = normalizeAddress(header(headers['cf-connecting-ip']) ?? '');
    if (isIP(cf)) return cf;
  }
  const hops = (header(headers['x-forwarded-for']) ?? '')
    .split(',')
    .map(normalizeAddress)
    .filter((h) => h.length > 0);
  // Right to left: each trusted proxy vouches for the hop before it; the first untrusted one is the client.
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (!isIP(hop)) return hop.slice(0, 64);
    if (!trust.trusts(hop)) return hop;
  }
  // Every hop is one of ours: the left-most is as far as anyone can see.
  return hops[0] ?? self;
}
