// The SSRF guard of downloads: which IP addresses a download may connect to, and a DNS `lookup`
// for node:http that refuses private ones. Checking inside the lookup (rather than resolving
// first and connecting later) means the address checked is the address connected to, so a
// DNS answer that changes between the two (rebinding) cannot slip through. Literal IP hosts
// skip `lookup` in Node, so `checkUrlHost` checks them before each request (every redirect hop).
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { EaselError } from '../../protocol/errors.js';

/** Decides whether one resolved address may be connected to. */
export type AddressPolicy = (address: string, family: 4 | 6) => boolean;

function parseIpv4(ip: string): number[] | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  const out = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : NaN));
  return out.every((n) => n >= 0 && n <= 255) ? out : undefined;
}

/** The 8 groups of an IPv6 address (handles `::` and a dotted IPv4 tail); undefined if malformed. */
export function parseIpv6(ip: string): number[] | undefined {
  let s = ip.toLowerCase();
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  // A dotted IPv4 tail (`::ffff:1.2.3.4`) becomes its two hex groups.
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    const v4 = parseIpv4(s.slice(lastColon + 1));
    if (!v4) return undefined;
    s = `${s.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const toGroups = (h: string): number[] | undefined => {
    if (h === '') return [];
    const gs = h.split(':').map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN));
    return gs.every((g) => !Number.isNaN(g)) ? gs : undefined;
  };
  const head = toGroups(halves[0]!);
  const rest = halves.length === 2 ? toGroups(halves[1]!) : [];
  if (!head || !rest) return undefined;
  const given = head.length + rest.length;
  if (halves.length === 1) return given === 8 ? head : undefined;
  if (given > 7) return undefined;
  return [...head, ...new Array<number>(8 - given).fill(0), ...rest];
}

function ipv4IsPublic(o: number[]): boolean {
  const [a, b] = [o[0]!, o[1]!];
  if (a === 0 || a === 10 || a === 127) return false; // "this network", private, loopback
  if (a === 100 && b >= 64 && b <= 127) return false; // carrier-grade NAT (100.64/10)
  if (a === 169 && b === 254) return false; // link-local (cloud metadata lives here)
  if (a === 172 && b >= 16 && b <= 31) return false;
  if (a === 192 && b === 168) return false;
  if (a === 192 && b === 0 && (o[2] === 0 || o[2] === 2)) return false; // IETF protocol assignments, TEST-NET-1
  if (a === 198 && (b === 18 || b === 19)) return false; // benchmarking
  if (a === 198 && b === 51 && o[2] === 100) return false;
  if (a === 203 && b === 0 && o[2] === 113) return false;
  if (a >= 224) return false; // multicast, reserved, broadcast
  return true;
}

/**
 * True for addresses on the public internet; false for loopback, private, link-local,
 * unique-local, unspecified, multicast and documentation ranges, IPv4 and IPv6 alike, and for
 * IPv6 forms that embed an IPv4 address (mapped, compatible, NAT64, 6to4) when that one is not public.
 *
 * @example isPublicAddress('::ffff:127.0.0.1') // false
 */
export function isPublicAddress(address: string): boolean {
  const v = isIP(address.split('%')[0]!);
  if (v === 4) {
    const o = parseIpv4(address);
    return o !== undefined && ipv4IsPublic(o);
  }
  if (v !== 6) return false;
  const g = parseIpv6(address);
  if (!g) return false;
  const embedded = (hi: number, lo: number): boolean => ipv4IsPublic([hi >> 8, hi & 255, lo >> 8, lo & 255]);
  const zeros = (n: number): boolean => g.slice(0, n).every((x) => x === 0);
  if (zeros(5) && g[5] === 0xffff) return embedded(g[6]!, g[7]!); // ::ffff:a.b.c.d (mapped)
  if (zeros(6)) return false; // ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return embedded(g[6]!, g[7]!); // NAT64
  if (g[0] === 0x2002) return embedded(g[1]!, g[2]!); // 6to4
  if (g[0] === 0x2001 && g[1] === 0) return false; // Teredo hides its real address
  if (g[0] === 0x2001 && g[1] === 0xdb8) return false; // documentation
  // Only global unicast (2000::/3) is public; this excludes fc00::/7, fe80::/10, ff00::/8, ...
  return (g[0]! & 0xe000) === 0x2000;
}

/** The policy for a download: public addresses only, unless private ones are allowed. */
export function addressPolicy(allowPrivate: boolean): AddressPolicy {
  return allowPrivate ? () => true : (address) => isPublicAddress(address);
}

function refused(host: string, address: string): EaselError {
  return new EaselError('forbidden_address', `refusing to download from ${host} (${address}): private, loopback and link-local addresses are not allowed (ALLOW_PRIVATE_DOWNLOADS)`);
}

/** Checks a URL's protocol and, when its host is an IP literal, the address itself. */
export function checkUrlHost(url: URL, policy: AddressPolicy): void {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new EaselError('invalid_params', `only http and https downloads are allowed, got ${url.protocol}`, { field: 'source' });
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const family = isIP(host);
  if (family !== 0 && !policy(host, family as 4 | 6)) throw refused(url.hostname, host);
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for `http.request` that resolves every address of the host and refuses the host
 * when any of them is not allowed (so a name cannot mix a public and a private answer).
 */
export function guardedLookup(policy: AddressPolicy) {
  return (hostname: string, options: { family?: number | string; all?: boolean }, callback: LookupCallback): void => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : typeof options.family === 'number' ? options.family : 0;
    dnsLookup(hostname, { all: true, family }, (err, addresses) => {
      if (err) return callback(err, '');
      const bad = addresses.find((a) => !policy(a.address, a.family as 4 | 6));
      if (bad) return callback(refused(hostname, bad.address) as unknown as NodeJS.ErrnoException, '');
      if (addresses.length === 0) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '');
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
