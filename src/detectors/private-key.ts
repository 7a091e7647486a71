import type { Detector } from './detector.js';

// RFC 7468 §2 armour. The label names the key kind: PKCS#8 `PRIVATE KEY` and `ENCRYPTED PRIVATE
// KEY` (RFC 7468 §10-11), PKCS#1 `RSA PRIVATE KEY`, SEC 1 `EC PRIVATE KEY`, `DSA PRIVATE KEY`,
// OpenSSH's `OPENSSH PRIVATE KEY` (openssh PROTOCOL.key) and `PGP PRIVATE KEY BLOCK` (RFC 4880 §6.2).
// Applied to a short slice after `-----BEGIN `, so the input length does not matter.
const armourLabel = /^(?:(?:RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?-----/;

/** How far into a value the armour may start: keys inside JSON or config text. */
const maxSearch = 1 << 20;

function matchPrivateKey(value: unknown): number {
  if (typeof value !== 'string' || value.length < 30) return 0;
  let at = value.indexOf('-----BEGIN ');
  while (at >= 0 && at < maxSearch) {
    if (armourLabel.test(value.slice(at + 11, at + 11 + 40))) return 0.99;
    at = value.indexOf('-----BEGIN ', at + 11);
  }
  // PuTTY's .ppk format (PuTTY manual, appendix C) carries its private part in the clear.
  if (value.startsWith('PuTTY-User-Key-File-') && value.includes('Private-Lines:')) return 0.97;
  return 0;
}

export const privateKeyDetector = {
  id: 'private-key',
  category: 'private_key',
  fieldWords: ['key', 'private', 'pem', 'ssh', 'rsa'],
  match: matchPrivateKey,
  examples: {
    match: [
      {
        path: 'ssh.key',
        value:
          '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----',
      },
      {
        path: 'tls',
        value: '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n',
      },
      {
        path: 'config',
        value: 'cert: x\nkey: |\n  -----BEGIN PRIVATE KEY-----\n  MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n',
      },
      { path: 'k', value: '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI' },
    ],
    noMatch: [
      { path: 'cert', value: '-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIE\n-----END CERTIFICATE-----' },
      {
        path: 'public_key',
        value: '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A\n-----END PUBLIC KEY-----',
      },
      {
        path: 'ssh.key',
        value: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host',
      },
      { path: 'note', value: 'we rotated the private key yesterday' },
    ],
  },
} as const satisfies Detector;
