import { jwtDetector } from './jwt.js';
import { cloudCredentialDetector } from './cloud-credential.js';
import type { Detector, FieldContext, Scalar } from './detector.js';
import { FieldWordSet } from './field-word-set.js';
import { vendorOAuthConfidence } from './oauth-token.js';
import { shannonEntropy } from './shannon-entropy.js';

// Words that name a secret held by a bearer on their own.
const strongWords = new FieldWordSet([
  'token',
  'apikey',
  'secret',
  'bearer',
  'session',
  'sessionid',
  'sid',
  'credential',
  'credentials',
  'authorization',
  'accesstoken',
  'authtoken',
  'sessiontoken',
  'apitoken',
  'xsrf',
  'csrf',
  'cookie',
]);
// `key` and `auth` only with a qualifier: `api_key`, `access_key`, `auth_key`; not `primary_key`.
const keyQualifiers = new FieldWordSet([
  'api',
  'access',
  'secret',
  'app',
  'client',
  'auth',
  'signing',
  'master',
  'private',
  'device',
  'push',
  'ios',
  'android',
  'mobile',
]);
// Last words that make the field about the token rather than the token itself.
const metaWords = new FieldWordSet([
  'type',
  'expires',
  'expiry',
  'expiration',
  'at',
  'time',
  'ttl',
  'count',
  'name',
  'length',
  'scope',
  'scopes',
  'status',
  'url',
  'uri',
  'endpoint',
  'hash',
  'hashed',
  'version',
  'created',
  'updated',
  'kind',
  'format',
  'issuer',
  'enabled',
  'valid',
  'revoked',
  'timeout',
  'duration',
  'provider',
]);
const passwordWords = new FieldWordSet(['password', 'passwd', 'pwd', 'pass']);
// Token alphabet: base64/base64url/hex plus the separators vendors use (`.`, `|`, `:`, `~`), i.e.
// /^[A-Za-z0-9+/=_.|:~-]+$/, checked by a loop that also counts digits and letters. The
// non-alphanumeric characters of it, by char code:
const tokenPunctuation = new Uint8Array(128);
for (const c of '+/=_.|:~-') tokenPunctuation[c.charCodeAt(0)] = 1;
// RFC 9562 §4 textual UUID.
const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const hexShape = /^[0-9a-f]+$/i;

// `fieldNamesToken` per field: the classifier hands the same context object for every value of a
// field, so the word lookups run once per field instead of once per value.
const namesToken = new WeakMap<FieldContext, boolean>();

function fieldNamesTokenCached(field: FieldContext): boolean {
  let names = namesToken.get(field);
  if (names === undefined) {
    names = fieldNamesToken(field);
    namesToken.set(field, names);
  }
  return names;
}

function fieldNamesToken(field: FieldContext): boolean {
  const words = field.keyWords;
  const last = words[words.length - 1];
  if (last !== undefined && metaWords.has(last)) return false;
  for (const w of words) {
    if (strongWords.has(w)) return true;
    if ((w === 'key' || w === 'auth') && keyQualifiers.inKey(field)) return true;
  }
  // `session.id`, `auth.token` nested: the parent names it.
  if (last === 'id' || last === 'value' || last === 'key') {
    for (const w of field.pathWords) if (w === 'session' || w === 'token' || w === 'auth') return true;
  }
  return false;
}

function matchApiToken(value: Scalar, field: FieldContext): number {
  if (typeof value !== 'string') return 0;
  const n = value.length;
  if (n < 16 || n > 4096) return 0;
  if (!fieldNamesTokenCached(field)) return 0;
  let token = value;
  if (token.startsWith('Bearer ') || token.startsWith('Token ')) token = token.slice(token.indexOf(' ') + 1);
  // One pass: the token alphabet and the digit and letter counts used below.
  let digits = 0;
  let letters = 0;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) letters++;
    else if (tokenPunctuation[c] !== 1) return 0;
  }
  if (token.length === 0) return 0;
  // Vendor formats and JWTs belong to their own categories. A random token may start with `eyJ`
  // too (one in 238,000 base62 draws): only one that decodes as a JWT is left to the JWT detector.
  if (
    (token.startsWith('eyJ') && jwtDetector.match(token) > 0) ||
    vendorOAuthConfidence(token) > 0 ||
    cloudCredentialDetector.match(token, field) > 0
  )
    return 0;
  if (token.length === 36 && token.charCodeAt(8) === 45 && uuidShape.test(token)) {
    // A UUID used as an id is not a secret; in a field named as a session or token it is one.
    return 0.7;
  }
  if (passwordWords.inPath(field) && hexShape.test(token)) return 0;
  // All digits: an id or a timestamp.
  if (letters === 0) return 0;
  const h = shannonEntropy(token);
  if (digits === 0) return randomLetters(token, letters, h) ? 0.7 : 0;
  if (h < 3) return 0;
  return h >= 3.5 ? 0.9 : 0.7;
}

// Consonant pairs common inside and between English words (clusters such as `th`, `str`, `ck`,
// doubled letters, and `-s`/`-t` endings before the next word of a CamelCase phrase). Pairs
// with a vowel (`y` included) are common too. Random letters fall outside in about half of
// their adjacent pairs, written words in a few per cent.
const commonConsonantPairs =
  'th nd ng nt st ch sh rt rs rd ns nc ts ll ss tt ct ld lt rn rm ck wh ph gh tr pr br cr dr gr fr ' +
  'pl bl cl fl gl sl sp sc sk sm sn sw tw dw ms mp mb lk lp lf lm ls ds ks ps rk rl rc rg rp rv rb ' +
  'ft pt wn ws nk nn mm pp ff dd gg bb rr cc nl hr sq nf nv ght kn wr xt lv rf nm';
const pairTable = new Uint8Array(26 * 26);
for (let a = 0; a < 26; a++) {
  for (let b = 0; b < 26; b++) if (isVowelIndex(a) || isVowelIndex(b)) pairTable[a * 26 + b] = 1;
}
for (const pair of commonConsonantPairs.split(' ')) {
  for (let i = 1; i < pair.length; i++) {
    pairTable[(pair.charCodeAt(i - 1) - 97) * 26 + pair.charCodeAt(i) - 97] = 1;
  }
}

function isVowelIndex(i: number): boolean {
  // a e i o u y
  return i === 0 || i === 4 || i === 8 || i === 14 || i === 20 || i === 24;
}

/**
 * Whether a token without digits was drawn at random rather than written: 32 random base62
 * characters hold no digit about once in 280 draws (52/62 to the 32nd), and those are tokens all
 * the same. Two tests, either enough:
 * - Written words (`ReplaceWithYourApiTokenHere`, `PLACEHOLDERTOKENVALUE`) put letters side by side
 *   that English rarely does in under a tenth of their pairs; random letters in about 45%. Under
 *   12% is words: measured, about 4 in 10,000 random 32-letter tokens fall under it.
 * - Random mixed case puts two capitals side by side in about a quarter of the pairs and two small
 *   letters in another quarter; CamelCase words almost never have two capitals together, and
 *   ALL-CAPS text never two small letters. Both at 10% or more is random: it rescues the rare
 *   random token that happens to read like English pairs (6 in the 2.4M-account eval).
 */
function randomLetters(token: string, letters: number, entropy: number): boolean {
  if (letters < 20 || entropy < 3.5) return false;
  let pairs = 0;
  let rare = 0;
  let capitalPairs = 0;
  let smallPairs = 0;
  let prev = -1;
  let prevCapital = false;
  for (let i = 0; i < token.length; i++) {
    const code = token.charCodeAt(i);
    const capital = code >= 65 && code <= 90;
    const c = code | 32;
    const letter = c >= 97 && c <= 122 ? c - 97 : -1;
    if (letter >= 0 && prev >= 0) {
      pairs++;
      if (pairTable[prev * 26 + letter] === 0) rare++;
      if (capital && prevCapital) capitalPairs++;
      else if (!capital && !prevCapital) smallPairs++;
    }
    prev = letter;
    prevCapital = capital;
  }
  return rare >= pairs * 0.12 || (capitalPairs >= pairs * 0.1 && smallPairs >= pairs * 0.1);
}

export const apiTokenDetector = {
  id: 'api-token',
  category: 'api_token',
  fieldWords: [...strongWords.words, 'key', 'auth'],
  requiresFieldWord: true,
  match: matchApiToken,
  examples: {
    match: [
      // Random, though it starts like a JWT (`eyJ` is base64 for `{"`): no dots, no header.
      { path: 'api.ios_token', value: 'eyJ2rKGQAw1GbcQZhyouCrtY6yc4oTMR' },
      // Random letters whose pairs read like English; their mixed case gives them away.
      { path: 'api.ios_token', value: 'HoCOTcOyoHiuBYTEPomiwIiBDYKIAmUH' },
      { path: 'ios.api_token', value: 'c2f9a7e1b34d4e8f9a0b1c2d3e4f5a6b7c8d9e0f' },
      { path: 'devices[].accessToken', value: 'Qm9vbGVhbkZhbHNlVHJ1ZQ_x7Zk2pL9wR4tY8uI' },
      { path: 'session', value: 'sess:9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c' },
      { path: 'headers.authorization', value: 'Bearer 4f8e2b1a9c7d6e5f0a1b2c3d4e5f6a7b' },
      { path: 'android.apiKey', value: 'k3Jd9sLq0Zx7VbN2mR5tW8yE1uI4oP6a' },
      { path: 'session_token', value: '3f2504e0-4f89-11d3-9a0c-0305e82c3301' },
      // Random base62 without a digit (one draw in ~280 of 32 characters) is a token all the same.
      { path: 'api.ios_token', value: 'qTzRkWbNfGxLpAyHvJcMdSeUoKiBtXnZ' },
      { path: 'tokens.androidAccessToken', value: 'ZkPq_VbnRtYwXcLmHgFdSaJeUiOkTzQwErTyUiPlMnB' },
      // Random, with vowels and few capitals: still far more rare letter pairs than words have.
      { path: 'api.ios_token', value: 'RdudcdqapiwieJjiQvFAuyeaKshIobqg' },
    ],
    noMatch: [
      { path: 'api.ios_token', value: 'InsertYourAccessTokenHereNow' },
      { path: 'user_id', value: '3f2504e0-4f89-11d3-9a0c-0305e82c3301' },
      { path: 'token', value: 'john.smith@example.com' },
      { path: 'password_token', value: '5f4dcc3b5aa765d61d8327deb882cf99' },
      { path: 'token_type', value: 'Bearer-token-abcdef123456' },
      { path: 'token_expires_at', value: '2019-12-04T10:00:00.000Z' },
      { path: 'token', value: '1577836800000123456' },
      { path: 'primary_key', value: 'c2f9a7e1b34d4e8f9a0b1c2d3e4f5a6b' },
      { path: 'token', value: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl' },
      { path: 'alexa.token', value: 'Atza|IwEBIJx8yQ7oQ0k1n2b3c4d5e6f7g8h9i0jKlMnOpQrStUvWxYz' },
      { path: 'token', value: 'aaaaaaaaaaaaaaaa1' },
      { path: 'api_key', value: 'ReplaceWithYourApiTokenHere' },
      { path: 'access_token', value: 'YOURACCESSTOKENGOESHERE' },
      { path: 'session', value: 'thequickbrownfoxjumpsoverthelazydog' },
      { path: 'session_token', value: 'InsertYourSessionTokenHerePlease' },
      { path: 'signing_key', value: 'ThisIsMyVeryStrongSecretSigningKey' },
    ],
  },
} as const satisfies Detector;
