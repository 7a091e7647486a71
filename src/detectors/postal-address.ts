import type { Detector, FieldContext, Scalar } from './detector.js';
import { FieldWordSet } from './field-word-set.js';

const streetWords = new FieldWordSet([
  'street',
  'address',
  'addr',
  'strasse',
  'straße',
  'calle',
  'rue',
  'line',
  'house',
  'home',
  'residence',
  'mailing',
  'billing',
  'shipping',
  'apt',
  'apartment',
  'suite',
]);
const postcodeWords = new FieldWordSet([
  'zip',
  'zipcode',
  'postcode',
  'postal',
  'postalcode',
  'plz',
  'cep',
  'pincode',
]);
const cityWords = new FieldWordSet(['city', 'town', 'locality']);
// "address" of something that is not a home.
const notStreetWords = new FieldWordSet([
  'ip',
  'ipv4',
  'ipv6',
  'mac',
  'email',
  'mail',
  'wallet',
  'bluetooth',
  'ble',
  'remote',
  'server',
  'host',
  'url',
  'web',
  'eth',
  'ethernet',
  'bitcoin',
  'btc',
  'eth',
  'contract',
  'memory',
  'hw',
  'hardware',
  'network',
  'net',
  'wifi',
  'gateway',
  'dns',
  'multicast',
  'broadcast',
  'smtp',
  'from',
  'to',
  'reply',
  'sender',
  'recipient',
  'id',
  'at',
  'time',
  'type',
  'verified',
  'count',
  'status',
  'validated',
  'mode',
  'name',
  'ssid',
  'page',
  'bar',
  'book',
  'space',
  'port',
  'local',
  'public',
  'private',
  'link',
]);
const hasDigit = /\d/;
const hasLetter = /\p{L}/u;
// Postcodes (Universal Postal Union addressing S42 country templates): US ZIP(+4), UK, Canada,
// Netherlands, generic 4-6 digits (DE, FR, ES, IT, AT, CH, AU, IN, ...), Brazil CEP, Japan, Poland.
const postcodes = [
  /^\d{5}(?:-\d{4})?$/,
  /^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$/i,
  /^[A-Z]\d[A-Z] ?\d[A-Z]\d$/i,
  /^\d{4} ?[A-Z]{2}$/i,
  /^\d{4,6}$/,
  /^\d{5}-?\d{3}$/,
  /^\d{3}-\d{4}$/,
  /^\d{2}-\d{3}$/,
];
const cityShape = /^[\p{L}][\p{L}\p{M}' .-]{1,58}$/u;

function matchPostalAddress(value: Scalar, field: FieldContext): number {
  if (typeof value === 'boolean') return 0;
  let street = false;
  let postcode = false;
  let city = false;
  for (const w of field.keyWords) {
    if (notStreetWords.has(w)) return 0;
    if (streetWords.has(w)) street = true;
    else if (postcodeWords.has(w)) postcode = true;
    else if (cityWords.has(w)) city = true;
  }
  if (postcode) {
    const s =
      typeof value === 'number'
        ? Number.isInteger(value) && value > 0
          ? String(value).padStart(5, '0')
          : ''
        : value.trim();
    if (s.length < 4 || s.length > 10) return 0;
    for (const p of postcodes) if (p.test(s)) return 0.85;
    return 0;
  }
  if (typeof value !== 'string') return 0;
  if (street) {
    if (value.length < 5 || value.length > 300 || value.indexOf('@') >= 0 || value.includes('://')) return 0;
    // A street line: a house number and a word, with a space (`221B Baker Street`, `Hauptstr. 5`).
    if (!hasDigit.test(value) || !hasLetter.test(value) || value.indexOf(' ') < 0) return 0;
    if (value.startsWith('0x')) return 0;
    return 0.85;
  }
  if (city) return cityShape.test(value) ? 0.6 : 0;
  return 0;
}

export const postalAddressDetector = {
  id: 'postal-address',
  category: 'postal_address',
  fieldWords: [...streetWords.words, ...postcodeWords.words, ...cityWords.words],
  requiresFieldWord: true,
  personOnly: true,
  match: matchPostalAddress,
  examples: {
    match: [
      { path: 'address', value: '1600 Amphitheatre Pkwy, Mountain View, CA 94043' },
      { path: 'shipping.street', value: '221B Baker Street' },
      { path: 'zip', value: '94107' },
      { path: 'postcode', value: 'SW1A 1AA' },
      { path: 'address_line1', value: 'Hauptstraße 5' },
      { path: 'home.zip_code', value: 2134 },
      { path: 'city', value: 'Mountain View' },
    ],
    noMatch: [
      { path: 'ip_address', value: '192.168.1.1' },
      { path: 'email_address', value: 'jane@example.com' },
      { path: 'mac_address', value: '2C:AA:8E:12:34:56' },
      { path: 'address', value: 'somewhere' },
      { path: 'zip', value: 'abc' },
      { path: 'wallet.address', value: '0x52908400098527886E0F7030069857D2E4169EE7' },
      { path: 'address', value: 'https://example.com/1 2' },
    ],
  },
} as const satisfies Detector;
