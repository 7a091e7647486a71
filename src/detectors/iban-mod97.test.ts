import { describe, expect, it } from 'vitest';
import { ibanLengths, ibanMod97, isValidIban } from './iban-mod97.js';

describe('IBAN mod-97 (ISO 13616 / ISO 7064)', () => {
  it.each([
    'DE89370400440532013000',
    'GB82WEST12345698765432',
    'FR1420041010050500013M02606',
    'NO9386011117947',
    'MT84MALT011000012345MTLCAST001S',
  ])('accepts %s', (iban) => {
    expect(ibanMod97(iban)).toBe(1);
    expect(isValidIban(iban)).toBe(true);
  });

  it('rejects a single changed digit, a swapped pair, a wrong length and an unknown country', () => {
    expect(isValidIban('DE89370400440532013001')).toBe(false);
    expect(isValidIban('DE89370400440532010300')).toBe(false);
    expect(isValidIban('DE8937040044053201300')).toBe(false);
    expect(isValidIban('XX89370400440532013000')).toBe(false);
    expect(isValidIban('de89370400440532013000')).toBe(false);
  });

  it('knows the registered lengths', () => {
    expect(ibanLengths.DE).toBe(22);
    expect(ibanLengths.NO).toBe(15);
    expect(ibanLengths.RU).toBe(33);
  });
});
