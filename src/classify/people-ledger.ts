import { randomBytes } from 'node:crypto';
import type { Category } from '../core/category.js';
import { encryptText, keyedHash, normalizeEmail, type PeopleKeys } from '../core/sealed-text.js';
import { identifierKinds, type IdentifierKind } from './subject-counter.js';

/**
 * One affected person as it may leave `classify/` (DESIGN.md invariant 3): keyed hashes, the
 * categories of their data, and their contact address and identifier only encrypted.
 */
export interface AffectedPerson {
  /** HMAC-SHA256 of the person's strongest identifier (`kind:value`); stable per key. */
  subjectHash: string;
  /** The kind of that identifier; `none` for a record that named nobody (counted, not reachable). */
  identifierKind: IdentifierKind | 'none';
  categories: Category[];
  /** HMAC-SHA256 of the normalised contact email: what "Am I affected?" looks up. */
  contactHash?: string;
  /** AES-256-GCM of the contact email (`iv.tag.ciphertext`, base64url). */
  contact?: string;
  /** AES-256-GCM of the strongest identifier's value, for the application's revocation hooks. */
  identifier?: string;
}

/**
 * Per subject index of a classifier's counter, the identifiers its records named: the raw values
 * stay here, in memory, for the one run that computes an incident's people.
 */
export class PeopleLedger {
  /** Per kind (`identifierKinds` order), per subject index, the first value seen. */
  private readonly values: (string | undefined)[][] = identifierKinds.map(() => []);

  identify(subject: number, kind: number, value: string | number | boolean): void {
    const column = this.values[kind];
    if (column === undefined || subject < 0) return;
    if (column[subject] === undefined) column[subject] = String(value);
  }

  /**
   * The people: `roots` maps every subject index to its person (union-find root), `categories`
   * lists each person's categories. Identifiers of all indices of one person are pooled, the
   * strongest kind names them, and the first email is their contact.
   */
  people(
    subjectCount: number,
    root: (subject: number) => number,
    categoriesOf: (root: number) => readonly Category[],
    keys: PeopleKeys,
  ): AffectedPerson[] {
    const best = new Map<number, { kind: number; value: string; email?: string }>();
    const roots = new Set<number>();
    for (let s = 0; s < subjectCount; s++) {
      const r = root(s);
      roots.add(r);
      for (let k = 0; k < identifierKinds.length; k++) {
        const value = this.values[k]?.[s];
        if (value === undefined) continue;
        const current = best.get(r);
        if (current === undefined)
          best.set(r, { kind: k, value, ...(k === emailKind ? { email: value } : {}) });
        else {
          if (k < current.kind) {
            current.kind = k;
            current.value = value;
          }
          if (k === emailKind && current.email === undefined) current.email = value;
        }
      }
    }
    const people: AffectedPerson[] = [];
    for (const r of roots) {
      const categories = categoriesOf(r);
      if (categories.length === 0) continue;
      const id = best.get(r);
      const kind = id === undefined ? undefined : identifierKinds[id.kind];
      if (id === undefined || kind === undefined) {
        people.push({
          subjectHash: keyedHash(keys.hmacKey, `record:${r}:${randomBytes(8).toString('hex')}`),
          identifierKind: 'none',
          categories: [...categories],
        });
        continue;
      }
      const normalized = kind === 'email' ? normalizeEmail(id.value) : id.value;
      const subjectHash = keyedHash(keys.hmacKey, `${kind}:${normalized}`);
      const identifier = encryptText(keys.encryptionKey, id.value);
      // Named by their email: the contact is the identifier, so it is hashed and sealed once.
      const sameAsIdentifier = kind === 'email' && id.email === id.value;
      people.push({
        subjectHash,
        identifierKind: kind,
        categories: [...categories],
        identifier,
        ...(id.email === undefined
          ? {}
          : {
              contactHash: sameAsIdentifier
                ? subjectHash
                : keyedHash(keys.hmacKey, `email:${normalizeEmail(id.email)}`),
              contact: sameAsIdentifier ? identifier : encryptText(keys.encryptionKey, id.email),
            }),
      });
    }
    return people;
  }
}

const emailKind = identifierKinds.indexOf('email');
