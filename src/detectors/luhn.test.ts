import { describe, expect, it } from 'vitest';
import { passesLuhn } from './luhn.js';

describe('passesLuhn', () => {
  it.each(['4111111111111111', '378282246310005', '490154203237518', '79927398713', '0000000000'])(
    'accepts %s',
    (d) => {
      expect(passesLuhn(d)).toBe(true);
    },
  );
  it.each(['4111111111111112', '79927398710', '490154203237519', '1', '', '4111-1111-1111-1111', '12a4'])(
    'rejects %j',
    (d) => {
      expect(passesLuhn(d)).toBe(false);
    },
  );
});
