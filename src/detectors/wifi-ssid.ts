import type { Detector, FieldContext, Scalar } from './detector.js';
import { FieldWordSet } from './field-word-set.js';

const ssidWords = new FieldWordSet(['ssid', 'essid', 'wifissid', 'ssids']);
const wifiWords = new FieldWordSet(['wifi', 'wlan', 'wireless', 'wifiname', 'wlanname', 'hotspot']);
// `ap_name`, `router_name` name the equipment (an inventory name), not the network it broadcasts.
const networkWords = new FieldWordSet(['network', 'net']);
const nameWords = new FieldWordSet(['name', 'names', 'ssid']);
// `wifi_password`, `wifi_signal`, `wifi_mac`: other things about the network.
const otherWords = new FieldWordSet([
  'password',
  'passwd',
  'pwd',
  'psk',
  'key',
  'pass',
  'passphrase',
  'signal',
  'rssi',
  'strength',
  'mac',
  'bssid',
  'ip',
  'channel',
  'enabled',
  'status',
  'state',
  'mode',
  'security',
  'encryption',
  'band',
  'frequency',
  'freq',
  'at',
  'time',
  'id',
  'count',
  'type',
  'quality',
  'connected',
  'level',
]);
const states = new Set([
  'true',
  'false',
  'on',
  'off',
  'connected',
  'disconnected',
  'enabled',
  'disabled',
  'yes',
  'no',
  'none',
  'null',
  '',
]);

/** IEEE 802.11-2020 §9.4.2.2: an SSID is 0-32 octets. */
function ssidBytes(value: string): number {
  let ascii = true;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 32 || c === 127) return -1;
    if (c > 127) ascii = false;
  }
  return ascii ? value.length : Buffer.byteLength(value, 'utf8');
}

function matchWifiSsid(value: Scalar, field: FieldContext): number {
  if (typeof value !== 'string' || value.length === 0 || value.length > 32) return 0;
  let strength = 0;
  if (ssidWords.inKey(field)) strength = 0.95;
  else if (wifiWords.inKey(field) || (networkWords.inKey(field) && nameWords.inKey(field))) strength = 0.8;
  else if (nameWords.inKey(field) && wifiWords.inPath(field)) strength = 0.85; // `wifi.name`
  if (strength === 0) return 0;
  for (const w of field.keyWords) if (otherWords.has(w)) return 0;
  const bytes = ssidBytes(value);
  if (bytes < 1 || bytes > 32) return 0;
  if (strength < 0.9 && states.has(value.toLowerCase())) return 0;
  return strength;
}

export const wifiSsidDetector = {
  id: 'wifi-ssid',
  category: 'wifi_ssid',
  fieldWords: [...ssidWords.words, ...wifiWords.words, 'network'],
  requiresFieldWord: true,
  match: matchWifiSsid,
  examples: {
    match: [
      { path: 'wifi_ssid', value: 'NETGEAR42' },
      { path: 'home.net.ssid', value: 'Smith Family 5G' },
      { path: 'network_name', value: 'FRITZ!Box 7590 XY' },
      { path: 'wifi.name', value: 'Café Wifi' },
      { path: 'SSID', value: 'linksys' },
    ],
    noMatch: [
      { path: 'ssn', value: 'NETGEAR42' },
      { path: 'wifi_password', value: 'hunter22' },
      { path: 'wifi.enabled', value: 'true' },
      { path: 'ssid', value: 'a-very-long-network-name-that-exceeds-32-bytes' },
      { path: 'name', value: 'NETGEAR42' },
      { path: 'wifi_signal', value: '-67' },
      { path: 'ap_name', value: 'AP-3F-EAST' },
    ],
  },
} as const satisfies Detector;
