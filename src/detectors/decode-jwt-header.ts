/** A JOSE header is small; anything longer is not worth decoding (RFC 7515 §4). */
const maxHeaderChars = 2048;

/**
 * Decodes the first part of a compact JWS/JWE (RFC 7515 §7.1, RFC 7516 §7.1) and returns the header
 * object when it is JSON with a string `alg` (RFC 7515 §4.1.1), else undefined. Bounded: only the
 * first part, at most 2 KB, is decoded.
 */
export function decodeJwtHeader(token: string): Record<string, unknown> | undefined {
  const dot = token.indexOf('.');
  if (dot < 4 || dot > maxHeaderChars) return undefined;
  const part = token.slice(0, dot);
  for (let i = 0; i < part.length; i++) {
    const c = part.charCodeAt(i);
    const ok = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95;
    if (!ok) return undefined;
  }
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return undefined;
  const alg = (header as Record<string, unknown>).alg;
  return typeof alg === 'string' ? (header as Record<string, unknown>) : undefined;
}
