import type { Detector, FieldContext, Scalar } from './detector.js';
import { FieldWordSet } from './field-word-set.js';
import { isValidIban } from './iban-mod97.js';

const bankWords = new FieldWordSet([
  'iban',
  'bank',
  'banking',
  'bic',
  'swift',
  'routing',
  'sepa',
  'payout',
  'bsb',
  'sort',
]);
const accountWords = new FieldWordSet([
  'account',
  'acct',
  'number',
  'no',
  'nr',
  'accountnumber',
  'kontonummer',
]);
// Domestic account numbers: 6-17 digits (US ABA practice; UK 8; AU 6-10), with optional separators.
const domesticAccount = /^\d[\d -]{4,20}\d$/;

/** Upper-cases and removes the spaces ISO 13616 prints every four characters; undefined otherwise. */
function compactIban(value: string): string | undefined {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 32) continue;
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90)) out += value.charAt(i);
    else if (c >= 97 && c <= 122) out += String.fromCharCode(c - 32);
    else return undefined;
  }
  return out;
}

function matchBankAccount(value: Scalar, field: FieldContext): number {
  if (typeof value === 'string' && value.length >= 15 && value.length <= 42) {
    const c0 = value.charCodeAt(0) | 32;
    const c1 = value.charCodeAt(1) | 32;
    if (c0 >= 97 && c0 <= 122 && c1 >= 97 && c1 <= 122) {
      const compact = compactIban(value);
      if (compact !== undefined && isValidIban(compact)) return 0.97;
      return 0;
    }
  }
  // A domestic account number: only when the field says bank and account.
  if (!bankWords.inPath(field) || !accountWords.inKey(field)) return 0;
  const s = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof s !== 'string' || s.length < 6 || s.length > 22 || !domesticAccount.test(s)) return 0;
  return 0.8;
}

export const bankAccountDetector = {
  id: 'bank-account',
  category: 'bank_account',
  fieldWords: [...bankWords.words, 'account'],
  match: matchBankAccount,
  examples: {
    match: [
      { path: 'iban', value: 'DE89 3704 0044 0532 0130 00' },
      { path: 'payout.account', value: 'GB82WEST12345698765432' },
      { path: 'x', value: 'fr1420041010050500013m02606' },
      { path: 'bank.account_number', value: '000123456789' },
      { path: 'bank_account_no', value: 12345678 },
    ],
    noMatch: [
      { path: 'iban', value: 'DE89 3704 0044 0532 0130 01' },
      { path: 'iban', value: 'XX89370400440532013000' },
      { path: 'account_number', value: '000123456789' },
      { path: 'title', value: 'GB82 is a nice place to be' },
      { path: 'bank.name', value: 'Deutsche Bank' },
    ],
  },
} as const satisfies Detector;
