import { hkdfSync, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { PeopleKeys } from '../core/sealed-text.js';
import { UsageError } from '../core/errors.js';

/**
 * The secret that seals affected people's contacts and keys their hashes. It never goes into the
 * store: a leaked database alone reveals no address. LEAKWATCH_SECRET_KEY (base64 of 32 bytes)
 * wins; otherwise a key file, created on first use with mode 0600.
 */
export function loadMasterKey(keyFile: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  const fromEnv = env['LEAKWATCH_SECRET_KEY'];
  if (fromEnv !== undefined && fromEnv !== '') {
    const key = Buffer.from(fromEnv, 'base64');
    if (key.length !== 32) throw new UsageError('LEAKWATCH_SECRET_KEY must be the base64 of 32 random bytes');
    return key;
  }
  try {
    const key = Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new UsageError(`${keyFile} does not hold a 32-byte base64 key`);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  try {
    // wx: two processes creating it at once must not end with two different keys.
    const fd = openSync(keyFile, 'wx', 0o600);
    try {
      writeSync(fd, `${key.toString('base64')}\n`);
    } finally {
      closeSync(fd);
    }
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadMasterKey(keyFile, env);
    throw error;
  }
}

/** Separate keys for hashing and sealing, derived from the master key (HKDF-SHA256). */
export function derivePeopleKeys(master: Uint8Array): PeopleKeys {
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), info, 32));
  return { hmacKey: derive('leakwatch people hmac v1'), encryptionKey: derive('leakwatch people seal v1') };
}
