/**
 * An incident with generated people for notification tests and the benchmark: contacts sealed and
 * hashed exactly as `incident open` stores them, a closed exposure window, and every fact the
 * notices need, so a campaign may start. Addresses are @example.test (RFC 2606: never delivered).
 */
import type { AffectedPerson } from '../src/classify/people-ledger.js';
import type { Category } from '../src/core/category.js';
import { encryptText, keyedHash, normalizeEmail, type PeopleKeys } from '../src/core/sealed-text.js';
import { createIncident, updateFacts } from '../src/incident/incident-store.js';
import type { Store } from '../src/store/store.js';

export const completeFacts = {
  controller: 'Example Cameras Ltd',
  dpoContact: 'dpo@example.test',
  contactPoint: 'privacy@example.test',
  consequences: 'Someone who copied the data could use it to send you convincing phishing emails.',
  measuresTaken: 'We protected the database again and signed every user out.',
  measuresProposed: 'We now check every database for public access every few seconds.',
  tollFreeNumber: '+1 800 555 0100',
  lawEnforcementDelay: false,
  identityTheftServices: 'Free credit monitoring for 24 months.',
};

export function personEmail(i: number): string {
  return `person${i}@example.test`;
}

export interface SeedOptions {
  people: number;
  /** Categories of person `i` (email is added). */
  categoriesOf?: (i: number) => Category[];
  /** Person `i` has no contact address. */
  withoutContact?: (i: number) => boolean;
  name?: string;
}

export async function seedNotifyIncident(
  store: Store,
  keys: PeopleKeys,
  options: SeedOptions,
): Promise<number> {
  const name = options.name ?? `cams-${Date.now()}`;
  const [watched] = await store.upsertWatchedStores([
    { name, target: 'redis://127.0.0.1:6399', protocol: 'redis', intervalMs: 60_000 },
  ]);
  if (watched === undefined) throw new Error('no watched store');
  const categoriesOf = options.categoriesOf ?? (() => ['email']);
  const people: AffectedPerson[] = [];
  const byCategory: Partial<Record<Category, number>> = {};
  let reachable = 0;
  for (let i = 0; i < options.people; i++) {
    const categories = [...new Set<Category>(['email', ...categoriesOf(i)])];
    for (const c of categories) byCategory[c] = (byCategory[c] ?? 0) + 1;
    const email = personEmail(i);
    const contact = options.withoutContact?.(i) !== true;
    if (contact) reachable++;
    people.push({
      subjectHash: keyedHash(keys.hmacKey, `email:${normalizeEmail(email)}`),
      identifierKind: 'email',
      categories,
      ...(contact
        ? {
            contactHash: keyedHash(keys.hmacKey, `email:${normalizeEmail(email)}`),
            contact: encryptText(keys.encryptionKey, email),
          }
        : {}),
      identifier: encryptText(keys.encryptionKey, email),
    });
  }
  const opened = new Date(Date.now() - 3 * 86_400_000);
  const closed = new Date(Date.now() - 86_400_000);
  const id = await createIncident(store, {
    storeId: watched.id,
    windowId: null,
    awareAt: closed,
    detectedAt: opened,
    jurisdictions: ['gdpr', 'us-ca', 'hipaa'],
    measurement: {
      store: { name, target: 'redis://127.0.0.1:6399', protocol: 'redis', tags: [] },
      window: {
        openedAt: opened.toISOString(),
        lastOpenAt: new Date(closed.getTime() - 5000).toISOString(),
        closedAt: closed.toISOString(),
        durationMs: closed.getTime() - opened.getTime(),
      },
      categories: Object.keys(byCategory) as Category[],
      subjects: { total: options.people, byCategory },
      reachable,
      fields: [],
    },
    people,
  });
  await updateFacts(store, id, completeFacts);
  return id;
}
