import type { Detector, FieldContext, Scalar } from './detector.js';
import { FieldWordSet } from './field-word-set.js';

const ssnWords = new FieldWordSet(['ssn', 'social', 'socialsecurity', 'ssnumber', 'tin', 'itin']);
const ninoWords = new FieldWordSet(['nino', 'ni', 'insurance', 'nin', 'nationalinsurance']);
const dniWords = new FieldWordSet(['dni', 'nie', 'nif', 'documento']);
const genericWords = new FieldWordSet([
  'passport',
  'national',
  'nationalid',
  'tax',
  'taxid',
  'cpf',
  'aadhaar',
  'pesel',
  'bsn',
  'personnummer',
  'idcard',
  'identity',
  'license',
  'licence',
  'driver',
  'citizen',
  'govid',
  'government',
]);
// Words that make `national`/`identity`/`license` fields something else.
const notIdWords = new FieldWordSet([
  'holiday',
  'anthem',
  'park',
  'software',
  'key',
  'type',
  'country',
  'expires',
  'expiry',
  'at',
  'date',
  'plate',
]);

// US SSN (SSA, "Social Security Number Randomization", 2011; POMS RM 10201.035): area 001-899
// except 666, group 01-99, serial 0001-9999. Dashed form only; undashed needs a field word.
const ssnDashed = /^(\d{3})-(\d{2})-(\d{4})$/;
const ssnBare = /^\d{9}$/;
// UK National Insurance number (HMRC National Insurance Manual NIM39110): two prefix letters (not
// D, F, I, Q, U, V; second not O; not BG, GB, KN, NK, NT, TN, ZZ), six digits, suffix A-D.
const nino = /^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]$/;
const ninoBadPrefixes = new Set(['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ']);
// Spanish DNI: 8 digits + check letter; NIE: X/Y/Z + 7 digits + letter, the prefix read as 0/1/2
// (Ministerio del Interior, "Cálculo del dígito de control del NIF/NIE").
const dni = /^([XYZ]|\d)(\d{7})-?([A-Z])$/;
const dniLetters = 'TRWAGMYFPDXBNJZSQVHLCKE';
const genericId = /^[A-Z0-9][A-Z0-9 .-]{3,22}[A-Z0-9]$/i;
const hasDigit = /\d/;

function validSsnParts(area: number, group: number, serial: number): boolean {
  return area >= 1 && area <= 899 && area !== 666 && group >= 1 && serial >= 1;
}

/**
 * SSN confidence; `named` is 1 for an SSN field word, 0.5 for a generic government-id word
 * (`national_id`, `tax_id`), 0 for none. The ddd-dd-dddd shape alone is any inventory code or
 * ticket number (an asset tag `078-05-1120`): without a word it is not taken for an SSN.
 */
function ssnConfidence(s: string, named: number): number {
  if (named === 0) return 0;
  const m = ssnDashed.exec(s);
  if (m !== null) {
    if (!validSsnParts(Number(m[1]), Number(m[2]), Number(m[3]))) return 0;
    return named === 1 ? 0.97 : 0.85;
  }
  if (named === 1 && ssnBare.test(s)) {
    return validSsnParts(Number(s.slice(0, 3)), Number(s.slice(3, 5)), Number(s.slice(5))) ? 0.9 : 0;
  }
  return 0;
}

function matchNationalId(value: Scalar, field: FieldContext): number {
  if (typeof value === 'boolean') return 0;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value <= 0 || !ssnWords.inKey(field)) return 0;
    return ssnConfidence(String(value).padStart(9, '0'), 1);
  }
  const n = value.length;
  if (n < 9 || n > 24) return 0;
  const c = value.charCodeAt(0);
  const digitFirst = c >= 48 && c <= 57;
  if (digitFirst) {
    const named = ssnWords.inKey(field) ? 1 : genericWords.inKey(field) && !notIdWords.inKey(field) ? 0.5 : 0;
    const ssn = ssnConfidence(value, named);
    if (ssn > 0) return ssn;
  }
  // Cheap shape tests before any upper-casing: NINO is two letters then a digit or a space.
  const c2 = value.charCodeAt(2);
  if (!digitFirst && n <= 13 && ((c2 >= 48 && c2 <= 57) || c2 === 32)) {
    const upper = value.toUpperCase();
    if (nino.test(upper) && !ninoBadPrefixes.has(upper.slice(0, 2))) {
      return ninoWords.inKey(field) ? 0.95 : 0.8;
    }
  }
  const lower = c | 32;
  if (n <= 10 && (digitFirst || lower === 120 || lower === 121 || lower === 122)) {
    const m = dni.exec(value.toUpperCase());
    if (m !== null) {
      const lead = m[1] === 'X' ? '0' : m[1] === 'Y' ? '1' : m[1] === 'Z' ? '2' : (m[1] ?? '');
      const num = Number(lead + (m[2] ?? ''));
      if (dniLetters.charAt(num % 23) === m[3]) return dniWords.inKey(field) ? 0.97 : 0.85;
      return 0;
    }
  }
  // Other government ids: a field word and an id shape with at least one digit.
  if (genericWords.inKey(field) && !notIdWords.inKey(field) && genericId.test(value) && hasDigit.test(value))
    return 0.7;
  return 0;
}

export const nationalIdDetector = {
  id: 'national-id',
  category: 'national_id',
  fieldWords: [...ssnWords.words, ...ninoWords.words, ...dniWords.words, ...genericWords.words],
  match: matchNationalId,
  examples: {
    match: [
      { path: 'ssn', value: '123-45-6789' },
      { path: 'profile.social_security_number', value: '078051120' },
      { path: 'national_id', value: '219-09-9999' },
      { path: 'nino', value: 'JG 10 37 59 A' },
      { path: 'dni', value: '12345678Z' },
      { path: 'documento', value: 'X1234567L' },
      { path: 'passport_number', value: 'C03005988' },
      { path: 'ssn', value: 78051120 },
    ],
    noMatch: [
      { path: 'wifi_ssid', value: '123-45-6789-home' },
      { path: 'ssn', value: '666-45-6789' },
      { path: 'x', value: '000-12-3456' },
      { path: 'order_id', value: '123456789' },
      { path: 'dni', value: '12345678A' },
      { path: 'nino', value: 'GB 12 34 56 C' },
      { path: 'national_holiday', value: '2019-12-25' },
      { path: 'phone', value: '415-555-2671' },
      { path: 'asset_tag', value: '078-05-1120' },
      { path: 'x', value: '219-09-9999' },
    ],
  },
} as const satisfies Detector;
