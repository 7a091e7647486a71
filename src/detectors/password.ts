import type { Detector, FieldContext, Scalar } from './detector.js';
import { FieldWordSet } from './field-word-set.js';
import { isStructuredPasswordHash } from './password-hash.js';

const passwordWords = new FieldWordSet([
  'password',
  'passwd',
  'pwd',
  'pass',
  'passphrase',
  'passcode',
  'psk',
  'pw',
  'pin',
  'wpa',
  'wpa2',
  'passkey',
  'wifipassword',
  'wifikey',
]);
// `key` counts only next to a WiFi word: `wifi_key`, `wpa_key`, `wlan.key`.
const wifiWords = new FieldWordSet(['wifi', 'wlan', 'wpa', 'wpa2', 'wireless']);
// Fields about a password that do not hold one (`password_changed_at`, `password_length`, `pinned`).
const metaWords = new FieldWordSet([
  'at',
  'time',
  'date',
  'ts',
  'changed',
  'updated',
  'reset',
  'expires',
  'expiry',
  'expired',
  'length',
  'policy',
  'required',
  'hint',
  'strength',
  'enabled',
  'set',
  'count',
  'attempts',
  'last',
  'hash',
  'hashed',
  'digest',
  'salt',
  'crypt',
  'encrypted',
  'algo',
  'algorithm',
  'type',
  'rule',
  'rules',
  'min',
  'max',
  'protected',
  'less',
  'is',
  'has',
  'needs',
  'must',
  'valid',
  'version',
  'url',
  'code',
  'pinned',
  'pins',
  'boarding',
  'mode',
  'status',
  'failed',
  'retry',
  'retries',
  'age',
  'history',
]);
// Placeholders a store holds instead of a secret.
const masked = /^[*•x#]+$/i;
const pinShape = /^\d{4,8}$/;
const placeholders = new Set([
  '',
  'null',
  'none',
  'true',
  'false',
  'n/a',
  'redacted',
  'hidden',
  'secret',
  'undefined',
]);

function matchPassword(value: Scalar, field: FieldContext): number {
  if (typeof value === 'boolean') return 0;
  let pinOnly = false;
  let hasWord = false;
  for (const w of field.keyWords) {
    if (metaWords.has(w)) return 0;
    if (passwordWords.has(w)) {
      hasWord = true;
      if (w === 'pin') pinOnly = true;
      else pinOnly = false;
    } else if (w === 'key' && wifiWords.inKey(field)) {
      hasWord = true;
    }
  }
  if (!hasWord) return 0;
  if (typeof value === 'number') {
    // Numeric PINs and numeric passwords both exist; a number in a password field is one.
    return Number.isInteger(value) && value >= 0 ? 0.85 : 0;
  }
  const n = value.length;
  if (n === 0 || n > 256) return 0;
  if (pinOnly) return pinShape.test(value) ? 0.85 : 0;
  if (placeholders.has(value.toLowerCase())) return 0;
  // Masked on the way in (`********`): nothing to leak.
  if (n >= 3 && masked.test(value)) return 0;
  if (isStructuredPasswordHash(value)) return 0;
  return 0.9;
}

export const passwordDetector = {
  id: 'password',
  category: 'password',
  fieldWords: [
    'password',
    'passwd',
    'pwd',
    'pass',
    'passphrase',
    'passcode',
    'psk',
    'pw',
    'pin',
    'wpa',
    'key',
    'passkey',
  ],
  requiresFieldWord: true,
  match: matchPassword,
  examples: {
    match: [
      { path: 'password', value: 'hunter2' },
      { path: 'home.wifi.psk', value: 'correct horse battery staple' },
      { path: 'wifi_key', value: 'S3cretWPA!' },
      { path: 'users[].passwd', value: 'P@ssw0rd' },
      { path: 'door_pin', value: '4711' },
      { path: 'WifiPassword', value: 'letmein123' },
    ],
    noMatch: [
      { path: 'password_changed_at', value: '2019-12-04T10:00:00Z' },
      { path: 'password', value: '$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW' },
      { path: 'password', value: '********' },
      { path: 'has_password', value: true },
      { path: 'primary_key', value: 'abc' },
      { path: 'passenger', value: 'John' },
      { path: 'map_pin', value: 'home' },
      { path: 'password', value: '' },
    ],
  },
} as const satisfies Detector;
