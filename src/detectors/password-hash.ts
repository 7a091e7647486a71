import type { Detector, FieldContext, Scalar } from './detector.js';
import { FieldWordSet } from './field-word-set.js';

// Modular crypt format strings. bcrypt: `$2a$`/`$2b$`/`$2y$` + cost + 53 chars of bcrypt base64
// (OpenBSD bcrypt(3)). argon2: PHC string format `$argon2id$v=19$m=…` (RFC 9106 §5, P-H-C
// phc-string-format). scrypt: `$scrypt$` (PHC) and `$7$` (libxcrypt crypt(5)); yescrypt `$y$`;
// md5/sha256/sha512-crypt `$1$`, `$5$`, `$6$`, Apache `$apr1$` (libxcrypt crypt(5)). PBKDF2:
// Django's `pbkdf2_sha256$iterations$salt$hash` (Django docs, "Password management") and passlib's
// `$pbkdf2-sha256$`. LDAP `{SSHA}`, `{SHA}`, `{CRYPT}` (RFC 2307 §5.3, OpenLDAP slappasswd(8)).
const bcrypt = /^\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}$/;
const phc =
  /^\$(?:argon2(?:id|i|d)|scrypt|pbkdf2(?:-sha1|-sha256|-sha512)?|balloon)\$[A-Za-z0-9+/.=,$-]{10,1024}$/;
const cryptFamily = /^\$(?:1|5|6|7|y|gy|apr1|sha1|md5)\$[A-Za-z0-9./$=,]{8,512}$/;
const django =
  /^(?:pbkdf2_sha256|pbkdf2_sha1|argon2|bcrypt_sha256|bcrypt|scrypt|sha1|md5)\$[A-Za-z0-9+/.=$-]{8,1024}$/;
const ldap = /^\{(?:SSHA|SHA|SSHA256|SSHA512|SMD5|MD5|CRYPT|PBKDF2[A-Z0-9-]*)\}[A-Za-z0-9+/.=$-]{8,1024}$/i;
// Bare hex digests: MD5 32, SHA-1 40, SHA-256 64, SHA-512 128 hex digits.
const bareHex = /^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{128})$/i;

const passwordWords = new FieldWordSet([
  'password',
  'passwd',
  'pwd',
  'pass',
  'passphrase',
  'passcode',
  'pw',
  'pin',
  'psk',
]);
const hashWords = new FieldWordSet([
  'hash',
  'hashed',
  'digest',
  'crypt',
  'encrypted',
  'passwordhash',
  'pwhash',
]);
// Hashes of things that are not credentials.
const contentWords = new FieldWordSet([
  'file',
  'content',
  'commit',
  'checksum',
  'etag',
  'image',
  'blob',
  'object',
  'sha',
  'md5',
  'git',
  'tx',
  'block',
  'body',
  'payload',
  'document',
  'chunk',
  'integrity',
  'version',
  'build',
  'firmware',
]);

/** Cheap structural test: a modular-crypt or Django-style hash, recognisable without field words. */
export function isStructuredPasswordHash(value: string): boolean {
  const n = value.length;
  if (n < 13 || n > 1100) return false;
  const c = value.charCodeAt(0);
  if (c === 36 /* $ */) {
    return bcrypt.test(value) || phc.test(value) || cryptFamily.test(value);
  }
  if (c === 123 /* { */) return ldap.test(value);
  if (value.indexOf('$') > 0) return django.test(value);
  return false;
}

function matchPasswordHash(value: Scalar, field: FieldContext): number {
  if (typeof value !== 'string') return 0;
  const n = value.length;
  if (n < 13 || n > 1100) return 0;
  if (isStructuredPasswordHash(value)) return 0.97;
  if (n !== 32 && n !== 40 && n !== 64 && n !== 128) return 0;
  const password = passwordWords.inPath(field);
  if (!password && !hashWords.inKey(field)) return 0;
  if (!bareHex.test(value)) return 0;
  if (password) return 0.9;
  return contentWords.inPath(field) ? 0 : 0.6;
}

export const passwordHashDetector = {
  id: 'password-hash',
  category: 'password_hash',
  fieldWords: ['password', 'passwd', 'pwd', 'pass', 'hash', 'hashed', 'digest', 'crypt'],
  match: matchPasswordHash,
  examples: {
    match: [
      { path: 'password', value: '$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW' },
      { path: 'pw', value: '$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG' },
      { path: 'shadow', value: '$6$rounds=5000$saltsalt$Vz4nC8e0vJrMpVpUq1P1GQdl3TtQ9lq0hWq5c1XkPp0' },
      { path: 'users[].password', value: 'pbkdf2_sha256$260000$Qx1a2b3c4d5e$Zm9vYmFyYmF6cXV4cXV1eA==' },
      { path: 'password_md5', value: '5f4dcc3b5aa765d61d8327deb882cf99' },
      { path: 'pwdHash', value: '5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8' },
      { path: 'userPassword', value: '{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=' },
    ],
    noMatch: [
      { path: 'file_hash', value: '5f4dcc3b5aa765d61d8327deb882cf99' },
      { path: 'commit', value: '5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8' },
      { path: 'id', value: '5f4dcc3b5aa765d61d8327deb882cf99' },
      { path: 'password', value: 'hunter2' },
      { path: 'price', value: '$12.99' },
      { path: 'password', value: '$2b$12$tooshort' },
    ],
  },
} as const satisfies Detector;
