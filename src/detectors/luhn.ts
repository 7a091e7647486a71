/**
 * The Luhn mod-10 check (ISO/IEC 7812-1 annex B), used by card numbers, IMEIs (3GPP TS 23.003) and
 * Canadian SINs. `digits` must hold ASCII digits only; anything else fails.
 */
export function passesLuhn(digits: string): boolean {
  const n = digits.length;
  if (n < 2) return false;
  let sum = 0;
  let double = false;
  for (let i = n - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}
