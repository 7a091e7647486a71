import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  randomBytes,
  type KeyObject,
} from 'node:crypto';

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

// Importing a raw key costs as much as the HMAC or cipher it serves; an incident seals millions
// of values with the same two keys, so each key is imported once (keys are never mutated).
const imported = new WeakMap<Uint8Array, KeyObject>();
function keyObject(key: Uint8Array): KeyObject {
  let object = imported.get(key);
  if (object === undefined) {
    object = createSecretKey(key);
    imported.set(key, object);
  }
  return object;
}

export function keyedHash(key: Uint8Array, text: string): string {
  return createHmac('sha256', keyObject(key)).update(text).digest('base64url');
}

// IVs are cut from a pooled CSPRNG buffer and never reused: one system call per 1,024 values
// instead of one per value (it was a fifth of sealing an incident's people).
const ivBytes = 12;
let ivPool = Buffer.alloc(0);
let ivOffset = 0;
function nextIv(): Buffer {
  if (ivOffset + ivBytes > ivPool.length) {
    ivPool = randomBytes(ivBytes * 1024);
    ivOffset = 0;
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + ivBytes);
  ivOffset += ivBytes;
  return iv;
}

/** AES-256-GCM with a random 96-bit IV; the result is `iv.tag.ciphertext` in base64url. */
export function encryptText(key: Uint8Array, text: string): string {
  const iv = nextIv();
  const cipher = createCipheriv('aes-256-gcm', keyObject(key), iv);
  const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return `${iv.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}.${body.toString('base64url')}`;
}

/** Opens `encryptText`'s output; throws if it was altered or sealed with another key. */
export function decryptText(key: Uint8Array, sealed: string): string {
  const [iv, tag, body] = sealed.split('.');
  if (iv === undefined || tag === undefined || body === undefined) throw new Error('not a sealed value');
  const decipher = createDecipheriv('aes-256-gcm', keyObject(key), Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}
