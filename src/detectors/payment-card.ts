import type { Detector, FieldContext, Scalar } from './detector.js';
import { FieldWordSet } from './field-word-set.js';
import { passesLuhn } from './luhn.js';

const cardWords = new FieldWordSet([
  'card',
  'cc',
  'pan',
  'credit',
  'debit',
  'ccnum',
  'cardnumber',
  'creditcard',
  'visa',
  'mastercard',
  'amex',
]);
// Long digit strings in these fields are identifiers that happen to pass Luhn one time in ten.
const idWords = new FieldWordSet([
  'id',
  'uid',
  'order',
  'invoice',
  'tracking',
  'serial',
  'imei',
  'ts',
  'timestamp',
  'time',
  'phone',
  'account',
  'iban',
]);

/**
 * Issuer identification number ranges and lengths of the networks (ISO/IEC 7812-1; Visa, Mastercard
 * "2-series" bulletin 2016, American Express, Discover Global Network IIN ranges, JCB, Diners Club,
 * UnionPay, Mir). Returns whether `digits` starts in a known range with an allowed length.
 */
export function hasKnownIin(digits: string): boolean {
  const n = digits.length;
  const p2 = Number(digits.slice(0, 2));
  const p3 = Number(digits.slice(0, 3));
  const p4 = Number(digits.slice(0, 4));
  const p6 = Number(digits.slice(0, 6));
  switch (digits.charCodeAt(0) - 48) {
    case 4: // Visa
      return n === 13 || n === 16 || n === 19;
    case 5: // Mastercard 51-55; Maestro 50, 56-58
      if (p2 >= 51 && p2 <= 55) return n === 16;
      return (p2 === 50 || (p2 >= 56 && p2 <= 58)) && n >= 12 && n <= 19;
    case 2: // Mastercard 2221-2720; Mir 2200-2204
      if (p4 >= 2221 && p4 <= 2720) return n === 16;
      return p4 >= 2200 && p4 <= 2204 && n >= 16 && n <= 19;
    case 3:
      if (p2 === 34 || p2 === 37) return n === 15; // American Express
      if (p4 >= 3528 && p4 <= 3589) return n >= 16 && n <= 19; // JCB
      if ((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39 || p4 === 3095) {
        return n >= 14 && n <= 19; // Diners Club
      }
      return false;
    case 6:
      if (p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649) || (p6 >= 622126 && p6 <= 622925)) {
        return n >= 16 && n <= 19; // Discover
      }
      if (p2 === 62 || p2 === 81) return n >= 16 && n <= 19; // UnionPay
      if (p2 === 60 || p2 === 63 || p2 === 67 || p2 === 69) return n >= 12 && n <= 19; // Maestro
      return false;
    default:
      return false;
  }
}

/** Strips the separators printed cards and forms use; undefined on anything else. */
function cardDigits(value: string): string | undefined {
  let out = '';
  let sep = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 48 && c <= 57) out += value.charAt(i);
    else if (c === 32 || c === 45) sep++;
    else return undefined;
  }
  return sep > 6 ? undefined : out;
}

function matchPaymentCard(value: Scalar, field: FieldContext): number {
  const named = cardWords.inKey(field);
  let digits: string | undefined;
  if (typeof value === 'number') {
    // Numbers lose precision above 2^53 and carry no separators: only in a card field.
    if (!named || !Number.isSafeInteger(value) || value < 1e11) return 0;
    digits = String(value);
  } else if (typeof value === 'string') {
    if (value.length < 12 || value.length > 23) return 0;
    const c = value.charCodeAt(0);
    // Card numbers start with 2-6 (ISO/IEC 7812-1 major industry identifiers in use by networks).
    if (c < 50 || c > 54) return 0;
    digits = cardDigits(value);
  } else {
    return 0;
  }
  if (digits === undefined || digits.length < 12 || digits.length > 19) return 0;
  if (!hasKnownIin(digits) || !passesLuhn(digits)) return 0;
  if (named) return 0.97;
  if (idWords.inKey(field)) return 0;
  // Grouped like a printed card (`4111 1111 1111 1111`) is stronger evidence than a bare run.
  return typeof value === 'string' && value.length !== digits.length ? 0.9 : 0.75;
}

export const paymentCardDetector = {
  id: 'payment-card',
  category: 'payment_card',
  fieldWords: cardWords.words,
  match: matchPaymentCard,
  examples: {
    match: [
      { path: 'card_number', value: '4111 1111 1111 1111' },
      { path: 'billing.cc', value: '5555-5555-5555-4444' },
      { path: 'pan', value: '378282246310005' },
      { path: 'payment', value: '6011111111111117' },
      { path: 'card', value: '2223003122003222' },
      { path: 'x', value: '3530 1113 3330 0000' },
      { path: 'creditCard', value: 4012888888881881 },
    ],
    noMatch: [
      { path: 'order_id', value: '4111111111111111' },
      { path: 'ts', value: '1577836800000' },
      { path: 'card_number', value: '4111 1111 1111 1112' },
      { path: 'x', value: '9111111111111111' },
      { path: 'phone', value: '+1 415 555 2671' },
      { path: 'amount', value: 4111111111111111 },
      { path: 'x', value: '1'.repeat(16) },
    ],
  },
} as const satisfies Detector;
