import type { Detector, FieldContext, Scalar } from './detector.js';
import { FieldWordSet } from './field-word-set.js';

/** RFC 5321 §4.5.3.1: local part ≤ 64 octets, domain ≤ 255, a path ≤ 256. */
const maxLocal = 64;
const maxDomain = 253;
/** Free text is scanned up to here; an email is found far earlier or the field is not about one. */
const maxScan = 1 << 20;
/** `@` signs examined per value: text with an address has one among its first few hundred. */
const maxAtSigns = 256;

// File names such as `icon@2x.png` have an address shape; their "TLD" is an extension.
const fileExtensions = new Set([
  'png',
  'jpg',
  'jpeg',
  'gif',
  'svg',
  'webp',
  'bmp',
  'ico',
  'tif',
  'tiff',
  'js',
  'mjs',
  'ts',
  'css',
  'json',
  'html',
  'htm',
  'pdf',
  'txt',
  'xml',
  'mp3',
  'mp4',
  'mov',
  'zip',
  'gz',
  'tar',
  'log',
  'yml',
  'yaml',
  'md',
  'csv',
  'heic',
  'avif',
  'woff',
  'woff2',
  'ttf',
  'map',
  'lock',
]);
const maxExtensionLength = Math.max(...[...fileExtensions].map((e) => e.length));

const emailWords = new FieldWordSet([
  'email',
  'mail',
  'emails',
  'e',
  'contact',
  'recipient',
  'to',
  'from',
  'cc',
  'bcc',
]);

// RFC 5322 §3.2.3 atext plus `.`: the practical local part (quoted local parts are left out on
// purpose; providers do not issue them).
function isLocalChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) ||
    (c >= 65 && c <= 90) ||
    (c >= 48 && c <= 57) ||
    c === 46 ||
    c === 43 ||
    c === 45 ||
    c === 95 ||
    c === 33 ||
    c === 35 ||
    c === 36 ||
    c === 37 ||
    c === 38 ||
    c === 39 ||
    c === 42 ||
    c === 47 ||
    c === 61 ||
    c === 63 ||
    c === 94 ||
    c === 96 ||
    c === 123 ||
    c === 124 ||
    c === 125 ||
    c === 126
  );
}

function isDomainChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 45 || c === 46;
}

/**
 * Validates `value[ls, at)` as a local part and `value(at, de)` as a domain: RFC 1035 §2.3.1 labels
 * (1-63 letters, digits, hyphens, not at either end), at least two labels, an alphabetic TLD of 2+
 * letters or an IDNA `xn--` label (RFC 5890).
 */
function validAddress(value: string, ls: number, at: number, de: number): boolean {
  if (at - ls < 1 || at - ls > maxLocal || de - at - 1 < 4 || de - at - 1 > maxDomain) return false;
  if (value.charCodeAt(ls) === 46 || value.charCodeAt(at - 1) === 46) return false;
  for (let i = ls + 1; i < at; i++)
    if (value.charCodeAt(i) === 46 && value.charCodeAt(i - 1) === 46) return false;
  let labelStart = at + 1;
  let labels = 0;
  for (let i = at + 1; i <= de; i++) {
    if (i < de && value.charCodeAt(i) !== 46) continue;
    const len = i - labelStart;
    if (len < 1 || len > 63) return false;
    if (value.charCodeAt(labelStart) === 45 || value.charCodeAt(i - 1) === 45) return false;
    labels++;
    if (i === de) {
      // Read in place, case-folded with `| 32` (domain characters are ASCII): no string per value.
      if (
        len >= 4 &&
        (value.charCodeAt(labelStart) | 32) === 120 /* x */ &&
        (value.charCodeAt(labelStart + 1) | 32) === 110 /* n */ &&
        value.charCodeAt(labelStart + 2) === 45 &&
        value.charCodeAt(labelStart + 3) === 45
      )
        return labels >= 2;
      if (len < 2) return false;
      for (let k = labelStart; k < de; k++) {
        const c = value.charCodeAt(k);
        const lower = c | 32;
        if (lower < 97 || lower > 122 || (c > 90 && c < 97)) return false;
      }
      if (len <= maxExtensionLength && fileExtensions.has(value.slice(labelStart, de).toLowerCase()))
        return false;
    }
    labelStart = i + 1;
  }
  return labels >= 2;
}

/** Whether the whole value is one address (no display name, no surrounding text). */
export function isEmailAddress(value: string): boolean {
  const n = value.length;
  if (n < 6 || n > 254) return false;
  const at = value.indexOf('@');
  if (at < 1 || value.indexOf('@', at + 1) >= 0) return false;
  for (let i = 0; i < at; i++) if (!isLocalChar(value.charCodeAt(i))) return false;
  for (let i = at + 1; i < n; i++) if (!isDomainChar(value.charCodeAt(i))) return false;
  return validAddress(value, 0, at, n);
}

/**
 * Finds an address inside text (`contact me at a@b.co or …`). Each `@` expands left over local
 * characters and right over domain characters, each at most to its RFC length limit, so the scan is
 * linear, and at most `maxAtSigns` are examined. Addresses followed by `:` or `/` are URL user-info or ssh
 * remotes (`git@github.com:org/repo`), not mailboxes.
 */
export function containsEmail(value: string): boolean {
  const end = Math.min(value.length, maxScan);
  let at = value.indexOf('@');
  let tries = 0;
  while (at >= 0 && at < end && tries++ < maxAtSigns) {
    let ls = at;
    while (ls > 0 && at - ls < maxLocal && isLocalChar(value.charCodeAt(ls - 1))) ls--;
    // Trailing dots belong to the sentence, not the address.
    let de = at + 1;
    while (de < end && de - at <= maxDomain && isDomainChar(value.charCodeAt(de))) de++;
    while (de > at + 1 && (value.charCodeAt(de - 1) === 46 || value.charCodeAt(de - 1) === 45)) de--;
    while (ls < at && value.charCodeAt(ls) === 46) ls++;
    const next = de < value.length ? value.charCodeAt(de) : 32;
    if (next !== 58 && next !== 47 && validAddress(value, ls, at, de)) return true;
    at = value.indexOf('@', at + 1);
  }
  return false;
}

function matchEmail(value: Scalar, field: FieldContext): number {
  if (typeof value !== 'string' || value.length < 6 || value.indexOf('@') < 0) return 0;
  if (isEmailAddress(value)) return emailWords.inKey(field) ? 0.99 : 0.95;
  // Display forms (`"Jo" <jo@x.org>`, `mailto:`) and free text.
  return containsEmail(value) ? 0.9 : 0;
}

export const emailDetector = {
  id: 'email',
  category: 'email',
  fieldWords: ['email', 'mail', 'contact', 'recipient'],
  match: matchEmail,
  examples: {
    match: [
      { path: 'email', value: 'jane.doe@example.com' },
      { path: 'shares[].with', value: 'bob+cams@mail.example.co.uk' },
      { path: 'notes', value: 'contact me at a@b.co or +1 415 555 2671' },
      { path: 'to', value: '"Jane Doe" <jane@example.org>' },
      { path: 'link', value: 'mailto:support@vendor.io' },
      { path: 'EMAIL', value: "o'brien_x@sub.domain.museum" },
      { path: 'comment', value: 'Write to jo@example.com.' },
    ],
    noMatch: [
      { path: 'email', value: 'user@localhost' },
      { path: 'icon', value: 'icon@2x.png' },
      { path: 'pkg', value: '@scope/pkg@1.2.3' },
      { path: 'repo', value: 'git@github.com:org/repo.git' },
      { path: 'handle', value: '@jane_doe' },
      { path: 'email', value: 'jane..doe@example.com' },
      { path: 'host', value: 'a@1.2.3.4' },
      { path: 'x', value: '@'.repeat(100) },
      { path: 'email', value: 'not an email' },
    ],
  },
} as const satisfies Detector;
