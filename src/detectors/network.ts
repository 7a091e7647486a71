import { isIP } from 'node:net';
import type { Detector, FieldContext, Scalar } from './detector.js';
import { FieldWordSet } from './field-word-set.js';

// A dotted version (`4.9.6.156`) is a valid IPv4 literal; in these fields it is a version.
const versionWords = new FieldWordSet([
  'version',
  'ver',
  'fw',
  'firmware',
  'build',
  'release',
  'sw',
  'software',
  'os',
  'app',
  'sdk',
  'v',
  'rev',
  'revision',
  'fwver',
  'appver',
  'osver',
  'hw',
  'hardware',
  'kernel',
  'bootloader',
  'oid',
]);
const ipWords = new FieldWordSet([
  'ip',
  'ips',
  'ipv4',
  'ipv6',
  'addr',
  'address',
  'host',
  'remote',
  'client',
  'peer',
  'src',
  'dst',
  'source',
  'destination',
  'wan',
  'public',
  'private',
  'local',
]);
// The layout of a private network (TAXONOMY.md network_layout).
const layoutWords = new FieldWordSet([
  'gateway',
  'gw',
  'subnet',
  'netmask',
  'mask',
  'dns',
  'router',
  'route',
  'routes',
  'lan',
  'dhcp',
  'cidr',
  'network',
  'nameserver',
  'broadcast',
  'prefix',
  'vlan',
  'defaultgateway',
  'subnets',
]);
const macWords = new FieldWordSet([
  'mac',
  'bssid',
  'hwaddr',
  'ether',
  'ethernet',
  'wifimac',
  'macaddress',
  'hardware',
]);

const maxIpChars = 45; // RFC 4291 §2.2 longest text form with embedded IPv4, plus scope id room.

function looksLikeIpStart(c: number): boolean {
  // Digits, hex letters and `:` begin every IPv4/IPv6 literal.
  return (c >= 48 && c <= 58) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/** 4 for an IPv4 literal, 6 for IPv6, 0 otherwise (node:net follows RFC 791 dotted-quad and RFC 4291 §2.2). */
function ipVersion(value: string): number {
  const n = value.length;
  if (n < 2 || n > maxIpChars || !looksLikeIpStart(value.charCodeAt(0))) return 0;
  // One pass over the characters before node:net: IPv4 is digits and 3 dots, IPv6 needs a colon
  // and only hex, `:`, `.` (embedded IPv4) and `%` (zone id, RFC 6874).
  let dots = 0;
  let colons = 0;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c === 46) dots++;
    else if (c === 58) colons++;
    else if (c === 37) return colons >= 2 ? isIP(value) : 0;
    else if (!((c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 102))) return 0;
  }
  if (colons === 0 && dots !== 3) return 0;
  if (colons === 1) return 0;
  return isIP(value);
}

/** A port after `:` (RFC 3986 §3.2.3): 1-5 digits, at most 65535. */
function isPort(value: string, from: number): boolean {
  const n = value.length - from;
  if (n < 1 || n > 5) return false;
  for (let i = from; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return Number(value.slice(from)) <= 65535;
}

/**
 * The address of an endpoint written with its port, as proxies and access logs do (RFC 3986
 * §3.2.2-3.2.3: `203.0.113.7:443`, IPv6 in brackets `[2001:db8::1]:443`), or the value itself.
 */
function hostOfEndpoint(value: string): string {
  const n = value.length;
  if (n < 4 || n > maxIpChars + 8) return value;
  if (value.charCodeAt(0) === 91) {
    const close = value.indexOf(']');
    if (close < 3) return value;
    if (close === n - 1 || (value.charCodeAt(close + 1) === 58 && isPort(value, close + 2))) {
      const host = value.slice(1, close);
      return ipVersion(host) === 6 ? host : value;
    }
    return value;
  }
  const first = value.charCodeAt(0);
  if (first < 48 || first > 57) return value;
  const colon = value.lastIndexOf(':');
  // One colon only: IPv6 literals have two or more.
  if (colon < 7 || value.indexOf(':') !== colon || !isPort(value, colon + 1)) return value;
  return value.slice(0, colon);
}

function matchIpAddress(value: Scalar, field: FieldContext): number {
  if (typeof value !== 'string') return 0;
  let address = value;
  let v = ipVersion(value);
  if (v === 0) {
    address = hostOfEndpoint(value);
    if (address === value) return 0;
    v = ipVersion(address);
    if (v === 0) return 0;
  }
  if (versionWords.inKey(field)) return 0;
  // Unspecified and loopback addresses locate nobody.
  if (address === '0.0.0.0' || address === '127.0.0.1' || address === '::' || address === '::1') return 0;
  if (v === 4 && layoutWords.inKey(field) && address.startsWith('255.')) return 0; // a netmask
  return ipWords.inKey(field) || layoutWords.inKey(field) ? 0.95 : 0.8;
}

export const ipAddressDetector = {
  id: 'ip-address',
  category: 'ip_address',
  fieldWords: ipWords.words,
  match: matchIpAddress,
  examples: {
    match: [
      { path: 'ip', value: '203.0.113.7' },
      { path: 'last_login_ip', value: '2001:db8::8a2e:370:7334' },
      { path: 'clientAddr', value: '192.168.1.23' },
      { path: 'x', value: '8.8.8.8' },
      { path: 'upstream', value: '52.94.236.248:443' },
      { path: 'peer', value: '[2001:db8::1]:8443' },
    ],
    noMatch: [
      { path: 'firmware_version', value: '4.9.6.156' },
      { path: 'cams[].fw_ver', value: '4.9.6.156' },
      { path: 'ip', value: '999.1.1.1' },
      { path: 'ip', value: '127.0.0.1' },
      { path: 'x', value: 'deadbeef' },
      { path: 'time', value: '12:30' },
      { path: 'upstream', value: '52.94.236.248:99999' },
      { path: 'proxy', value: '127.0.0.1:8080' },
      { path: 'build', value: '4.9.6.156:2' },
      { path: 'x', value: '[fe80::1]x' },
    ],
  },
} as const satisfies Detector;

// CIDR notation (RFC 4632 §3.1 for IPv4, RFC 4291 §2.3 for IPv6).
function cidrConfidence(value: string): number {
  const slash = value.indexOf('/');
  if (slash < 2 || slash > maxIpChars || value.length - slash > 4) return 0;
  const prefix = value.slice(slash + 1);
  if (prefix.length === 0) return 0;
  for (let i = 0; i < prefix.length; i++) {
    const c = prefix.charCodeAt(i);
    if (c < 48 || c > 57) return 0;
  }
  const bits = Number(prefix);
  const v = ipVersion(value.slice(0, slash));
  if (v === 4 && bits <= 32) return 0.95;
  if (v === 6 && bits <= 128) return 0.95;
  return 0;
}

function matchNetworkLayout(value: Scalar, field: FieldContext): number {
  if (typeof value !== 'string' || value.length < 3 || value.length > 50) return 0;
  if (!looksLikeIpStart(value.charCodeAt(0))) return 0;
  if (value.indexOf('/') > 0) return cidrConfidence(value);
  if (!layoutWords.inKey(field) || versionWords.inKey(field)) return 0;
  return ipVersion(value) !== 0 ? 0.9 : 0;
}

export const networkLayoutDetector = {
  id: 'network-layout',
  category: 'network_layout',
  fieldWords: layoutWords.words,
  match: matchNetworkLayout,
  examples: {
    match: [
      { path: 'home.net.subnet', value: '192.168.1.0/24' },
      { path: 'gateway', value: '192.168.1.1' },
      { path: 'wifi.dns', value: '10.0.0.53' },
      { path: 'x', value: 'fd00:1234::/48' },
      { path: 'netmask', value: '255.255.255.0' },
    ],
    noMatch: [
      { path: 'ip', value: '192.168.1.7' },
      { path: 'subnet', value: '192.168.1.0/33' },
      { path: 'path', value: '10/24' },
      { path: 'date', value: '12/24/2019' },
      { path: 'gateway', value: 'home-router' },
    ],
  },
} as const satisfies Detector;

// IEEE 802 EUI-48 in its three usual spellings: `aa:bb:cc:dd:ee:ff`, `aa-bb-…` (IEEE 802-2014
// §8.1) and Cisco's `aabb.ccdd.eeff`; one separator throughout. A bare 12-hex form only with a field word.
const macColon = /^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}$/;
const macDash = /^[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}$/;
const macDot = /^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$/;
const macBare = /^[0-9A-Fa-f]{12}$/;

/** Whether every hex digit of a matched MAC is `0`, or every one is `f`/`F` (no string built per value). */
function isNullOrBroadcast(value: string): boolean {
  let zeros = 0;
  let fs = 0;
  let hex = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 58 || c === 45 || c === 46) continue;
    hex++;
    if (c === 48) zeros++;
    else if ((c | 32) === 102) fs++;
    else return false;
  }
  return zeros === hex || fs === hex;
}

function matchMacAddress(value: Scalar, field: FieldContext): number {
  if (typeof value !== 'string') return 0;
  const n = value.length;
  let ok = false;
  if (n === 17) ok = macColon.test(value) || macDash.test(value);
  else if (n === 14) ok = macDot.test(value);
  else if (n === 12) ok = macWords.inKey(field) && macBare.test(value);
  if (!ok) return 0;
  // All-zero and broadcast addresses name no device.
  if (isNullOrBroadcast(value)) return 0;
  return n !== 12 || macWords.inKey(field) ? 0.95 : 0;
}

export const macAddressDetector = {
  id: 'mac-address',
  category: 'mac_address',
  fieldWords: macWords.words,
  match: matchMacAddress,
  examples: {
    match: [
      { path: 'cams[].mac', value: '2C:AA:8E:12:34:56' },
      { path: 'wifi.bssid', value: 'a4-2b-b0-c1-d2-e3' },
      { path: 'x', value: '2caa.8e12.3456' },
      { path: 'mac', value: '2CAA8E123456' },
    ],
    noMatch: [
      { path: 'id', value: '2CAA8E123456' },
      { path: 'mac', value: '00:00:00:00:00:00' },
      { path: 'x', value: '2C:AA:8E:12:34' },
      { path: 'x', value: '2C:AA-8E:12:34:56' },
      { path: 'time', value: '12:34:56' },
    ],
  },
} as const satisfies Detector;
