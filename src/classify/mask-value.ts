import type { Category } from '../core/category.js';
import type { Scalar } from '../detectors/detector.js';

/**
 * Vendor prefixes that say which issuer a secret belongs to without saying anything about the
 * secret itself (each is a constant of its format, documented by the vendor):
 * Login with Amazon `Atza|`/`Atzr|` (developer.amazon.com, LWA tokens), Google `ya29.`/`1//`
 * (developers.google.com/identity, access/refresh tokens), GitHub `ghp_ gho_ ghu_ ghs_ ghr_
 * github_pat_` (github.blog 2021-04-05 "Behind GitHub's new authentication token formats"),
 * AWS `AKIA`/`ASIA` (docs.aws.amazon.com IAM identifiers), Slack `xox?-`/`xapp-` (api.slack.com
 * token types), Stripe `sk_/rk_/pk_ live/test` (docs.stripe.com/keys), JWT `eyJ` (base64url of
 * `{"`, RFC 7519), password hash schemes (`$2b$` bcrypt, `$argon2id$`, `$scrypt$`, crypt `$6$`).
 * Longest first, so `github_pat_` wins over shorter look-alikes.
 */
const secretPrefixes = [
  'github_pat_',
  '$argon2id$',
  '$argon2i$',
  '$argon2d$',
  '$pbkdf2-sha256$',
  '$pbkdf2-sha512$',
  '$pbkdf2$',
  '$scrypt$',
  'sk_live_',
  'sk_test_',
  'rk_live_',
  'rk_test_',
  'pk_live_',
  'pk_test_',
  'xoxb-',
  'xoxp-',
  'xoxa-',
  'xoxr-',
  'xoxs-',
  'xapp-',
  'Atza|',
  'Atzr|',
  'ya29.',
  '$2a$',
  '$2b$',
  '$2y$',
  'ghp_',
  'gho_',
  'ghu_',
  'ghs_',
  'ghr_',
  'AKIA',
  'ASIA',
  '$1$',
  '$5$',
  '$6$',
  '1//',
  'eyJ',
];

const pemBegin = /^-----BEGIN ([A-Z0-9 ]{1,40})-----/;

/** Longest text of a value the masks look at; the rest only counts towards `[length]`. */
const maxInspected = 256;

function isAlnum(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/** One raw character, if it is a plain letter or digit (never a control or markup character). */
function shown(text: string, at: number): string {
  return isAlnum(text.charCodeAt(at)) ? text.charAt(at) : '*';
}

function starDigits(text: string): string {
  let out = '';
  const n = Math.min(text.length, 32);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    out += c >= 48 && c <= 57 ? '*' : c === 46 || c === 44 || c === 45 ? text.charAt(i) : '';
  }
  return out === '' ? '**' : out;
}

function digitsOf(text: string): string {
  let out = '';
  for (let i = 0; i < text.length && i < maxInspected; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) out += text.charAt(i);
  }
  return out;
}

function maskGeneric(text: string): string {
  if (text.length <= 2) return `**[${text.length}]`;
  return `${shown(text, 0)}***[${text.length}]`;
}

function maskName(text: string): string {
  if (text.length <= 2) return '***';
  return `${shown(text, 0)}***`;
}

function maskEmail(text: string): string {
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) return maskGeneric(text);
  const domain = text.slice(at + 1, at + 1 + maxInspected);
  const dot = domain.lastIndexOf('.');
  const tld = dot > 0 ? domain.slice(dot + 1) : '';
  // A TLD names no one; keep it only when it looks like one (letters, 2–6).
  const keepTld = tld.length >= 2 && tld.length <= 6 && /^[a-z]+$/i.test(tld);
  return `${shown(text, 0)}***@${shown(domain, 0)}***${keepTld ? `.${tld.toLowerCase()}` : ''}`;
}

function maskSecret(text: string): string {
  const pem = pemBegin.exec(text);
  if (pem) return `-----BEGIN ${pem[1] ?? ''}-----…[${text.length}]`;
  for (const prefix of secretPrefixes) {
    if (text.startsWith(prefix) && text.length > prefix.length + 4) {
      return `${prefix}…[${text.length}]`;
    }
  }
  return `…[${text.length}]`;
}

function maskPhone(text: string): string {
  const digits = digitsOf(text);
  if (digits.length < 6) return '*** **';
  const country = text.trimStart().startsWith('+') ? `+${digits.charAt(0)} ` : '';
  return `${country}*** *** **${digits.slice(-2)}`;
}

function maskCard(text: string): string {
  const digits = digitsOf(text);
  return `**** **** **** **${digits.length >= 12 ? digits.slice(-2) : '**'}`;
}

function maskIban(text: string): string {
  const compact = text.replace(/\s+/g, '').slice(0, 64);
  if (compact.length < 8) return '****';
  const country = /^[A-Za-z]{2}/.test(compact) ? compact.slice(0, 2).toUpperCase() : '**';
  return `${country}** **** **** **${shown(compact, compact.length - 2)}${shown(compact, compact.length - 1)}`;
}

function maskIp(text: string): string {
  const v4 = /^\s*(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}(\/\d{1,2})?/.exec(text);
  if (v4) return `${v4[1] ?? '*'}.${v4[2] ?? '*'}.*.*${v4[3] ?? ''}`;
  const colon = text.indexOf(':');
  if (colon > 0 && colon <= 4) {
    const head = text.slice(0, colon);
    const prefix = /^[0-9a-f]{1,4}$/i.test(head) ? head.toLowerCase() : '*';
    const slash = /\/(\d{1,3})\s*$/.exec(text);
    return `${prefix}:*:*:*:*:*:*:*${slash ? `/${slash[1] ?? ''}` : ''}`;
  }
  return maskGeneric(text);
}

function maskMac(text: string): string {
  const hex = text
    .replace(/[^0-9a-fA-F]/g, '')
    .slice(0, 12)
    .toLowerCase();
  if (hex.length !== 12) return '**:**:**:**:**:**';
  return `${hex.slice(0, 2)}:${hex.slice(2, 4)}:**:**:**:**`;
}

/** A version keeps its major number and shape: `4.9.6.156` → `4.*.*.*`. */
function maskVersion(text: string): string {
  const m = /^\s*v?(\d{1,4})((?:[.\-_]\w{1,12}){0,6})/.exec(text.slice(0, 64));
  if (!m) return maskGeneric(text);
  const rest = (m[2] ?? '').replace(/\w+/g, '*');
  // The major alone is the whole value for "4": hide it then.
  return rest === '' ? '*' : `${m[1] ?? '*'}${rest}`;
}

/** Times keep their year: when a login happened is personal, in which year is not. */
function maskTime(value: Scalar): string {
  let year: number | undefined;
  if (typeof value === 'number') {
    // Seconds or milliseconds since the epoch (a 13-digit number is milliseconds).
    const ms = value > 1e11 ? value : value * 1000;
    const d = new Date(ms);
    if (!Number.isNaN(d.getTime())) year = d.getUTCFullYear();
  } else if (typeof value === 'string') {
    const m = /^\s*((?:19|20)\d\d)-/.exec(value);
    if (m) year = Number(m[1]);
  }
  return year === undefined ? '****-**-**' : `${year}-**-**`;
}

function maskGeo(text: string): string {
  // Whole degrees (~100 km) say where on the planet, not where someone lives.
  return text
    .slice(0, 64)
    .replace(/(-?\d{1,3})\.\d+/g, '$1.*')
    .replace(/[^0-9.*,\s-]/g, '');
}

/**
 * A masked form of `value` that tells a reader what kind of data a field holds without giving away
 * the data (DESIGN.md invariant 3): at most a few raw characters (the first letter, the last two
 * digits, the first two octets, a vendor prefix) and the length where it helps.
 */
export function maskValue(category: Category, value: Scalar): string {
  if (typeof value === 'boolean') return '*';
  const text = typeof value === 'number' ? String(value) : value;
  switch (category) {
    case 'email':
      return maskEmail(text);
    case 'username':
    case 'person_name':
    case 'device_name':
    case 'wifi_ssid':
      return maskName(text);
    case 'phone':
      return maskPhone(text);
    case 'payment_card':
      return maskCard(text);
    case 'bank_account':
      return maskIban(text);
    case 'ip_address':
    case 'network_layout':
      return maskIp(text);
    case 'mac_address':
      return maskMac(text);
    case 'password':
      return '********';
    case 'password_hash':
    case 'api_token':
    case 'oauth_token':
    case 'jwt':
    case 'private_key':
    case 'cloud_credential':
      return maskSecret(text);
    case 'firmware_version':
      return maskVersion(text);
    case 'activity_time':
      return maskTime(value);
    case 'date_of_birth':
      return '****-**-**';
    case 'health_metric':
    case 'geolocation':
      return typeof value === 'number' || category === 'health_metric' ? starDigits(text) : maskGeo(text);
    case 'gender':
      return '*';
    case 'national_id':
      return `***-**-**${shown(text, text.length - 1)}`;
    case 'postal_address':
    case 'user_id':
    case 'device_id':
    case 'device_model':
      return maskGeneric(text);
  }
}
