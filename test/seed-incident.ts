/**
 * Writes an incident with hand-made people straight into a store, for tests and benchmarks that
 * need affected people without scanning a live data store first. Contacts are sealed and hashed
 * exactly as `incident open` does (src/core/sealed-text.ts).
 */
import type { AffectedPerson } from '../src/classify/people-ledger.js';
import type { Category } from '../src/core/category.js';
import { encryptText, keyedHash, normalizeEmail } from '../src/core/sealed-text.js';
import { createIncident } from '../src/incident/incident-store.js';
import type { Store } from '../src/store/store.js';

export interface SeedPerson {
  email: string;
  categories: Category[];
}

export async function seedIncident(
  store: Store,
  name: string,
  people: readonly SeedPerson[],
  window: { openedAfter?: string; openedAt: string; closedAt?: string } = {
    openedAfter: '2019-12-04T09:58:00.000Z',
    openedAt: '2019-12-04T10:00:00.000Z',
    closedAt: '2019-12-26T11:00:00.000Z',
  },
): Promise<number> {
  const keys = store.peopleKeys();
  const [row] = await store.upsertWatchedStores([
    { name, target: 'redis://127.0.0.1:1', protocol: 'redis', intervalMs: 60_000 },
  ]);
  if (row === undefined) throw new Error('no watched store row');
  const affected: AffectedPerson[] = people.map((person) => {
    const normalized = normalizeEmail(person.email);
    return {
      subjectHash: keyedHash(keys.hmacKey, `email:${normalized}`),
      identifierKind: 'email',
      categories: person.categories,
      contactHash: keyedHash(keys.hmacKey, `email:${normalized}`),
      contact: encryptText(keys.encryptionKey, person.email),
      identifier: encryptText(keys.encryptionKey, person.email),
    };
  });
  const byCategory: Partial<Record<Category, number>> = {};
  for (const person of people) for (const c of person.categories) byCategory[c] = (byCategory[c] ?? 0) + 1;
  const end = window.closedAt ?? new Date().toISOString();
  return createIncident(store, {
    storeId: row.id,
    windowId: null,
    awareAt: new Date(),
    detectedAt: new Date(window.openedAt),
    jurisdictions: ['gdpr'],
    measurement: {
      store: { name, target: 'redis://127.0.0.1:1', protocol: 'redis', tags: [] },
      window: {
        ...window,
        lastOpenAt: end,
        durationMs: Date.parse(end) - Date.parse(window.openedAt),
      },
      categories: Object.keys(byCategory) as Category[],
      subjects: { total: people.length, byCategory },
      reachable: people.length,
      fields: [],
    },
    people: affected,
  });
}
