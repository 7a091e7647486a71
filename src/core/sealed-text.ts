import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * Keyed hashes and authenticated encryption for the few personal values Leakwatch must keep for a
 * response (DESIGN.md invariant 3): contact addresses and identifiers of affected people, sealed
 * with keys that live outside the store (store/key-file.ts).
 */

/** The keys an incident protects its people with; both 32 bytes. */
export interface PeopleKeys {
  hmacKey: Uint8Array;
  encryptionKey: Uint8Array;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function keyedHash(key: Uint8Array, text: string): string {
  return createHmac('sha256', key).update(text).digest('base64url');
}

/** AES-256-GCM with a random 96-bit IV; the result is `iv.tag.ciphertext` in base64url. */
export function encryptText(key: Uint8Array, text: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return `${iv.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}.${body.toString('base64url')}`;
}

/** Opens `encryptText`'s output; throws if it was altered or sealed with another key. */
export function decryptText(key: Uint8Array, sealed: string): string {
  const [iv, tag, body] = sealed.split('.');
  if (iv === undefined || tag === undefined || body === undefined) throw new Error('not a sealed value');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}
