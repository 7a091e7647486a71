import { describe, expect, it } from 'vitest';
import type { Category } from '../core/category.js';
import { categoryWords, listCategoryWords } from './category-words.js';
import type { IncidentRecord } from './incident.js';
import { NotificationComposer, phishingWarning } from './notification-message.js';

const day = 86_400_000;
const closed = new Date(Date.now() - day);
const opened = new Date(closed.getTime() - 3 * day);

const incident: IncidentRecord = {
  id: 7,
  ref: 'INC-0007',
  status: 'open',
  store: { name: 'metrics', target: 'elasticsearch://127.0.0.1:9200', protocol: 'elasticsearch', tags: [] },
  window: {
    openedAt: opened.toISOString(),
    lastOpenAt: closed.toISOString(),
    closedAt: closed.toISOString(),
    durationMs: closed.getTime() - opened.getTime(),
  },
  detectedAt: opened.toISOString(),
  awareAt: closed.toISOString(),
  jurisdictions: ['gdpr', 'us-ca', 'hipaa'],
  categories: ['email', 'wifi_ssid', 'health_metric'],
  subjects: { total: 1000, byCategory: { email: 1000, wifi_ssid: 900, health_metric: 140 } },
  reachable: 1000,
  fields: [],
  deadlines: [],
  timeline: [],
  decisions: [],
  facts: {
    controller: 'Example Cameras Ltd',
    dpoContact: 'dpo@example.test',
    contactPoint: 'privacy@example.test',
    consequences: 'Phishing.',
    measuresTaken: 'Locked down.',
    measuresProposed: 'Monitoring.',
    tollFreeNumber: '+1 800 555 0100',
    lawEnforcementDelay: false,
  },
};

describe('NotificationComposer', () => {
  for (const kind of ['gdpr-34', 'us-ca', 'hipaa'] as const) {
    it(`${kind}: tells each person about their own categories only, with a phishing warning, no draft marks`, () => {
      const composer = new NotificationComposer(incident, kind);
      expect(composer.missing()).toEqual([]);
      const scale: Category[] = ['email', 'health_metric'];
      const camera: Category[] = ['email', 'wifi_ssid'];
      const a = composer.compose(scale);
      const b = composer.compose(camera);
      expect(a.text).toContain(categoryWords.health_metric);
      expect(b.text).not.toContain(categoryWords.health_metric);
      expect(b.html).not.toContain('body measurements');
      expect(b.text).toContain(categoryWords.wifi_ssid);
      if (kind === 'gdpr-34') expect(a.text).toContain(listCategoryWords(scale));
      for (const content of [a, b]) {
        expect(content.text).toContain(phishingWarning.heading);
        expect(content.html).toContain(phishingWarning.heading);
        expect(content.text + content.html).not.toMatch(/DRAFT|Drafting notes|Still missing|to be completed/);
        expect(content.html).not.toMatch(/href="https?:/);
      }
      // The same set of categories is rendered once.
      expect(composer.compose(['health_metric', 'email'])).toBe(a);
    });
  }

  it('reports what the letter still lacks', () => {
    const composer = new NotificationComposer({ ...incident, facts: {} }, 'gdpr-34');
    expect(composer.missing().map((m) => m.field)).toContain('controller');
  });
});
