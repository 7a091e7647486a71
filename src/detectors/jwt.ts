import { decodeJwtHeader } from './decode-jwt-header.js';
import type { Detector } from './detector.js';

/** Far above any real token; beyond it the value is a document, not a credential. */
const maxTokenChars = 16_384;

/**
 * Compact serialisation (RFC 7519 §3, RFC 7515 §7.1): base64url parts joined by dots, three for a
 * JWS, five for a JWE. A header is a JSON object, so a real token starts with `eyJ` (`{"`).
 */
function jwtConfidence(value: unknown): number {
  if (typeof value !== 'string' || value.length < 20) return 0;
  // `e` of `eyJ` or `B`/`b` of `Bearer`: most values stop here.
  const c = value.charCodeAt(0);
  if (c !== 101 && (c | 32) !== 98) return 0;
  let token = value;
  // `Authorization` header values are stored as-is (RFC 6750 §2.1).
  if (token.startsWith('Bearer ') || token.startsWith('bearer ')) token = token.slice(7);
  if (token.length < 20 || token.length > maxTokenChars || !token.startsWith('eyJ')) return 0;
  let dots = 0;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c === 46) {
      dots++;
      continue;
    }
    const ok = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95;
    if (!ok) return 0;
  }
  if (dots !== 2 && dots !== 4) return 0;
  return decodeJwtHeader(token) === undefined ? 0 : 0.98;
}

export const jwtDetector = {
  id: 'jwt',
  category: 'jwt',
  fieldWords: ['token', 'jwt', 'bearer', 'authorization', 'auth', 'id'],
  match: jwtConfidence,
  examples: {
    match: [
      {
        path: 'auth.id_token',
        value:
          'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
      },
      {
        path: 'headers.authorization',
        value: 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJlLWJ5dGVz',
      },
      { path: 'x', value: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.' },
    ],
    noMatch: [
      { path: 'token', value: 'eyJzdWIiOiIxIn0.eyJzdWIiOiIxIn0.c2ln' },
      { path: 'token', value: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0' },
      { path: 'version', value: '4.9.6.156' },
      { path: 'token', value: 'eyJ!!!.abc.def' },
    ],
  },
} as const satisfies Detector;
