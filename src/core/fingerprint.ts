import { createHash } from 'node:crypto';

/**
 * A stable identity for tracking a finding across runs, built from identity fields only (protocol,
 * host, port, path, collection, field, category), never from values (STYLE.md, after trivy).
 */
export function fingerprint(...identity: (string | number | undefined)[]): string {
  const hash = createHash('sha256');
  for (const part of identity) hash.update(`${part ?? ''}\u0000`);
  return hash.digest('hex').slice(0, 32);
}
