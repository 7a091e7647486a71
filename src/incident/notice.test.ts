import { describe, expect, it } from 'vitest';
import { categorySensitivity, type Category } from '../core/category.js';
import { categoryWords, listCategoryWords } from './category-words.js';
import type { IncidentFacts, IncidentRecord } from './incident.js';
import { computeDeadlines } from './jurisdictions.js';
import { renderNotice } from './notice-render.js';
import {
  draftNotice,
  durationWords,
  noticeKinds,
  noticePlaceholders,
  personalizeNotice,
  type NoticeDraft,
  type NoticeKind,
} from './notice.js';

const awareAt = '2026-03-01T12:00:00.000Z';
const openedAt = '2026-03-01T10:00:00.000Z';
const closedAt = '2026-03-03T14:05:00.000Z';
// Inside GDPR's 72 hours (due 4 March 12:00) and after the window closed.
const inTime = new Date('2026-03-03T15:00:00.000Z');
const late = new Date('2026-03-05T18:00:00.000Z');

const allFacts: IncidentFacts = {
  controller: 'Scales Ltd, 1 High Street, Dublin',
  dpoContact: 'Jane Roe, dpo@scales.example',
  contactPoint: 'privacy@scales.example, 1 High Street, Dublin',
  consequences: 'Phishing emails that quote your measurements.',
  measuresTaken: 'We enabled authentication and revoked all tokens.',
  measuresProposed: 'We will audit every database monthly.',
  subjectCategories: 'customers of the Scales app',
  lawEnforcementDelay: false,
  tollFreeNumber: '1-800-555-0100',
};

function incident(overrides: Partial<IncidentRecord> = {}): IncidentRecord {
  return {
    id: 7,
    ref: 'INC-0007',
    status: 'open',
    store: { name: 'scales-redis', target: 'redis://10.0.0.5:6379', protocol: 'redis', tags: [] },
    window: {
      openedAfter: '2026-03-01T09:55:00.000Z',
      openedAt,
      lastOpenAt: '2026-03-03T14:00:00.000Z',
      closedAt,
      durationMs: Date.parse(closedAt) - Date.parse(openedAt),
    },
    detectedAt: openedAt,
    awareAt,
    jurisdictions: ['gdpr', 'us-ca', 'hipaa', 'ftc-hbnr'],
    categories: ['email', 'wifi_ssid', 'health_metric', 'api_token'],
    records: 5100,
    subjects: {
      total: 2400,
      byCategory: { email: 2400, wifi_ssid: 1900, health_metric: 800, api_token: 300 },
    },
    reachable: 2350,
    fields: [
      { collection: 'users', path: 'email', categories: ['email'], records: 2400, subjects: 2400 },
      { collection: 'homes', path: 'wifi.ssid', categories: ['wifi_ssid'], records: 1900, subjects: 1900 },
      { collection: 'weighins', path: 'fat_pct', categories: ['health_metric'], records: 500, subjects: 800 },
      { collection: 'sessions', path: 'token', categories: ['api_token'], records: 300, subjects: 300 },
    ],
    deadlines: computeDeadlines(['gdpr', 'us-ca', 'hipaa', 'ftc-hbnr'], new Date(awareAt)),
    timeline: [],
    decisions: [],
    facts: {},
    ...overrides,
  };
}

/** Everything a reader of the draft sees, as one string. */
function textOf(draft: NoticeDraft): string {
  return [
    draft.title,
    ...draft.sections.flatMap((s) => [s.heading, ...s.paragraphs, ...(s.bullets ?? [])]),
  ].join('\n');
}

function section(draft: NoticeDraft, heading: string): string {
  const found = draft.sections.find((s) => s.heading === heading);
  expect(found, `section "${heading}"`).toBeDefined();
  return [...(found?.paragraphs ?? []), ...(found?.bullets ?? [])].join('\n');
}

function missingFields(draft: NoticeDraft): string[] {
  return draft.missing.map((m) => m.field);
}

describe('draftNotice: required parts of each kind', () => {
  it('gdpr-33 has the parts of Art. 33(3)(a)-(d) and the phases note of Art. 33(4)', () => {
    const draft = draftNotice(incident(), 'gdpr-33', inTime);
    expect(draft.sections.map((s) => s.heading)).toEqual([
      'Controller and contact point',
      'Nature of the breach',
      'Likely consequences',
      'Measures taken or proposed',
      'Timeline',
      'Information provided in phases',
    ]);
    expect(section(draft, 'Information provided in phases')).toContain('Art. 33(4)');
  });

  it('gdpr-34 is a letter to "you" with the parts Art. 34(2) asks for', () => {
    const draft = draftNotice(incident({ facts: allFacts }), 'gdpr-34', inTime);
    expect(draft.sections.map((s) => s.heading)).toEqual([
      'What happened',
      'What information about you was involved',
      'What this may mean for you',
      'What we are doing',
      'What you can do',
      'Contact',
    ]);
    expect(section(draft, 'What happened')).toContain('affected your personal data');
    expect(section(draft, 'Contact')).toContain('Jane Roe, dpo@scales.example');
    expect(section(draft, 'What this may mean for you')).toBe(
      'Phishing emails that quote your measurements.',
    );
  });

  it('us-ca has the exact title and the five headings of §1798.82(d)(1), in order', () => {
    const draft = draftNotice(incident(), 'us-ca', inTime);
    expect(draft.title).toBe('Notice of Data Breach');
    expect(draft.sections.map((s) => s.heading)).toEqual([
      'What Happened',
      'What Information Was Involved',
      'What We Are Doing',
      'What You Can Do',
      'For More Information',
    ]);
  });

  it('hipaa has the parts of 45 CFR §164.404(c)', () => {
    const draft = draftNotice(incident({ facts: allFacts }), 'hipaa', inTime);
    expect(draft.sections.map((s) => s.heading)).toEqual([
      'What Happened',
      'What Information Was Involved',
      'What You Should Do',
      'What We Are Doing',
      'For More Information',
    ]);
    const happened = section(draft, 'What Happened');
    expect(happened).toContain('Date of discovery: March 1, 2026, 12:00 UTC');
    expect(happened).toContain('began between March 1, 2026, 09:55 UTC and March 1, 2026, 10:00 UTC');
    expect(section(draft, 'What Information Was Involved')).toContain('body measurements');
    expect(section(draft, 'For More Information')).toContain('toll-free at 1-800-555-0100');
    expect(section(draft, 'For More Information')).toContain('privacy@scales.example');
    expect(draft.sections.at(-1)?.links).toContainEqual({ text: '1-800-555-0100', href: 'tel:18005550100' });
  });
});

describe('draftNotice: measured numbers and dates', () => {
  it('gdpr-33 states people per category in words, records, the window with its bounds, and the deadline', () => {
    const draft = draftNotice(incident(), 'gdpr-33', inTime);
    const nature = section(draft, 'Nature of the breach');
    expect(nature).toContain('approximately 2,400 people');
    expect(nature).toContain('email address [email]: 2,400 people');
    expect(nature).toContain("name of the person's WiFi network [wifi_ssid]: 1,900 people");
    expect(nature).toMatch(
      /body measurements \(weight, body fat.*\) \[health_metric\]: 800 people \(sensitive\)/,
    );
    expect(nature).toMatch(/API and access tokens .*\[api_token\]: 300 people \(credential/);
    expect(nature).toContain('approximately 5,100 records, in 4 fields of 4 collections');
    expect(nature).toContain('"scales-redis" (redis, redis://10.0.0.5:6379)');
    expect(nature).toContain('began after 1 March 2026, 09:55 UTC');
    expect(nature).toContain('no later than 1 March 2026, 10:00 UTC');
    expect(nature).toContain('ended after 3 March 2026, 14:00 UTC');
    expect(nature).toContain('no later than 3 March 2026, 14:05 UTC');
    expect(nature).toContain('Duration of the exposure: 2 days 4 hours');
    const timeline = section(draft, 'Timeline');
    expect(timeline).toContain('Detected by monitoring: 1 March 2026, 10:00 UTC');
    expect(timeline).toContain('Controller became aware: 1 March 2026, 12:00 UTC');
    expect(timeline).toContain('Notification due: 4 March 2026, 12:00 UTC');
    expect(timeline).toContain('This notification drafted: 3 March 2026, 15:00 UTC');
    expect(section(draft, 'Measures taken or proposed')).toContain('2,350 of the 2,400 people');
  });

  it('says the store was already open when first watched when no protected probe came before', () => {
    const base = incident();
    const { openedAfter: _dropped, ...window } = base.window;
    const nature = section(draftNotice({ ...base, window }, 'gdpr-33', inTime), 'Nature of the breach');
    expect(nature).toContain('already open when monitoring began');
    expect(nature).toContain('may have begun earlier');
  });

  it('us-ca states the date of the notice, the breach date range, discovery and the law enforcement fact', () => {
    const draft = draftNotice(incident({ facts: allFacts }), 'us-ca', inTime);
    const happened = section(draft, 'What Happened');
    expect(happened).toContain('Date of this notice: March 3, 2026.');
    expect(happened).toContain(
      'began between March 1, 2026, 09:55 UTC and March 1, 2026, 10:00 UTC and ended by March 3, 2026, 14:05 UTC',
    );
    expect(happened).toContain('detected the breach on March 1, 2026, 10:00 UTC');
    expect(happened).toContain('not delayed by a law enforcement investigation');
    const delayed = draftNotice(
      incident({ facts: { ...allFacts, lawEnforcementDelay: true } }),
      'us-ca',
      inTime,
    );
    expect(section(delayed, 'What Happened')).toContain('delayed at the request of law enforcement');
    const involved = section(draft, 'What Information Was Involved');
    expect(involved).toContain('2,400 people');
    expect(involved).toContain('name of your WiFi network');
    expect(draft.notes.join('\n')).toContain('due March 31, 2026, 12:00 UTC');
  });

  it('us-ca lists the credit reporting agencies only when government ids were exposed, and says so', () => {
    const without = draftNotice(incident({ facts: allFacts }), 'us-ca', inTime);
    expect(textOf(without)).not.toContain('Equifax');
    expect(section(without, 'What Information Was Involved')).toContain('No Social Security numbers');
    expect(missingFields(without)).not.toContain('identityTheftServices');

    const withIds = draftNotice(
      incident({
        facts: allFacts,
        categories: ['email', 'national_id'],
        subjects: { total: 2400, byCategory: { email: 2400, national_id: 40 } },
      }),
      'us-ca',
      inTime,
    );
    const canDo = section(withIds, 'What You Can Do');
    for (const agency of [
      'Equifax: 1-800-685-1111',
      'Experian: 1-888-397-3742',
      'TransUnion: 1-888-909-8872',
    ]) {
      expect(canDo).toContain(agency);
    }
    expect(section(withIds, 'What Information Was Involved')).toContain('Social Security numbers');
    expect(missingFields(withIds)).toContain('identityTheftServices');
  });

  it('us-ca mentions the Attorney General sample copy above 500 people only', () => {
    const many = draftNotice(incident(), 'us-ca', inTime);
    expect(many.notes.join('\n')).toMatch(
      /more than 500 are California residents, submit a sample copy.*Attorney General/,
    );
    const few = draftNotice(
      incident({ subjects: { total: 120, byCategory: { email: 120 } } }),
      'us-ca',
      inTime,
    );
    expect(few.notes.join('\n')).toContain('no Attorney General sample copy is required');
  });
});

describe('draftNotice: missing', () => {
  it('lists the facts measurement cannot supply, per kind', () => {
    expect(missingFields(draftNotice(incident(), 'gdpr-33', inTime))).toEqual([
      'controller',
      'dpoContact',
      'subjectCategories',
      'consequences',
      'measuresTaken',
      'measuresProposed',
    ]);
    expect(missingFields(draftNotice(incident(), 'gdpr-34', inTime))).toEqual([
      'controller',
      'dpoContact',
      'consequences',
      'measuresTaken',
      'measuresProposed',
    ]);
    expect(missingFields(draftNotice(incident(), 'us-ca', inTime))).toEqual([
      'controller',
      'contactPoint',
      'lawEnforcementDelay',
      'measuresTaken',
      'measuresProposed',
    ]);
    expect(missingFields(draftNotice(incident(), 'hipaa', inTime))).toEqual([
      'controller',
      'tollFreeNumber',
      'contactPoint',
      'measuresTaken',
      'measuresProposed',
    ]);
  });

  it('marks each gap in the text and names the law that asks for it', () => {
    const draft = draftNotice(incident(), 'gdpr-33', inTime);
    expect(textOf(draft)).toContain('[to be completed: name and address of the controller]');
    expect(draft.missing.find((m) => m.field === 'consequences')?.why).toContain('Art. 33(3)(c)');
    // Without stated consequences, the categories suggest what to weigh.
    expect(section(draft, 'Likely consequences')).toContain('WiFi network name can be looked up');
  });

  it('shrinks as facts are given, to nothing when all are', () => {
    const some = draftNotice(
      incident({ facts: { controller: 'Scales Ltd', contactPoint: 'privacy@scales.example' } }),
      'gdpr-33',
      inTime,
    );
    expect(missingFields(some)).toEqual([
      'subjectCategories',
      'consequences',
      'measuresTaken',
      'measuresProposed',
    ]);
    for (const kind of noticeKinds) {
      const draft = draftNotice(incident({ facts: allFacts }), kind, inTime);
      expect(draft.missing, kind).toEqual([]);
      expect(textOf(draft), kind).not.toContain('[to be completed');
    }
  });

  it('lists an open window for every kind', () => {
    const base = incident({ facts: allFacts });
    const { closedAt: _closed, ...window } = base.window;
    for (const kind of noticeKinds) {
      const draft = draftNotice({ ...base, window }, kind, inTime);
      expect(missingFields(draft), kind).toEqual(['window']);
    }
    const gdpr = draftNotice({ ...base, window }, 'gdpr-33', inTime);
    expect(section(gdpr, 'Nature of the breach')).toContain('The exposure is ongoing');
    expect(section(gdpr, 'Nature of the breach')).toContain('Open for 2 days 5 hours so far');
  });

  it('lists records when they were not measured', () => {
    const { records: _records, ...rest } = incident({ facts: allFacts });
    expect(missingFields(draftNotice(rest, 'gdpr-33', inTime))).toEqual(['records']);
  });
});

describe('draftNotice: GDPR Art. 33(1) delay', () => {
  it('has no delay section within 72 hours', () => {
    const draft = draftNotice(incident(), 'gdpr-33', inTime);
    expect(draft.sections.map((s) => s.heading)).not.toContain('Reasons for the delay');
    expect(missingFields(draft)).not.toContain('delayReasons');
  });

  it('after 72 hours asks for the reasons until the facts give them', () => {
    const draft = draftNotice(incident(), 'gdpr-33', late);
    const reasons = section(draft, 'Reasons for the delay');
    expect(reasons).toContain('1 day 6 hours after the 72-hour period ended on 4 March 2026, 12:00 UTC');
    expect(missingFields(draft)).toContain('delayReasons');
    expect(draft.notes.join('\n')).toContain('OVERDUE');

    const given = draftNotice(
      incident({ facts: { ...allFacts, delayReasons: 'The forensic copy took four days.' } }),
      'gdpr-33',
      late,
    );
    expect(section(given, 'Reasons for the delay')).toContain('The forensic copy took four days.');
    expect(given.missing).toEqual([]);
  });

  it('computes the deadline from awareness when the record has none', () => {
    const draft = draftNotice(incident({ deadlines: [] }), 'gdpr-33', late);
    expect(section(draft, 'Timeline')).toContain('Notification due: 4 March 2026, 12:00 UTC');
    expect(draft.sections.map((s) => s.heading)).toContain('Reasons for the delay');
  });
});

describe('personalizeNotice', () => {
  const template = draftNotice(incident({ facts: allFacts }), 'gdpr-34', inTime);

  it('the template names no category, only the placeholders', () => {
    const text = textOf(template);
    expect(text).toContain(noticePlaceholders.categories);
    expect(text).toContain(noticePlaceholders.advice);
    for (const category of ['email', 'wifi_ssid', 'health_metric', 'api_token'] as const) {
      expect(text).not.toContain(categoryWords[category]);
    }
  });

  it('tells someone with health data about body measurements, in plain words', () => {
    const letter = personalizeNotice(template, ['email', 'health_metric']);
    const text = textOf(letter);
    expect(section(letter, 'What information about you was involved')).toBe(
      'The information about you in the database: body measurements (weight, body fat, BMI, muscle and bone mass, heart rate, ...) and email address.',
    );
    expect(section(letter, 'What you can do')).toContain('refer to your health');
    expect(text).not.toContain('{{');
    expect(text).not.toContain('WiFi');
    expect(text).not.toContain('access tokens');
  });

  it('tells someone without health data nothing about it', () => {
    const letter = personalizeNotice(template, ['wifi_ssid', 'email']);
    const text = textOf(letter);
    expect(section(letter, 'What information about you was involved')).toBe(
      'The information about you in the database: email address and name of your WiFi network.',
    );
    expect(text).not.toContain('body measurements');
    expect(text).not.toMatch(/health/i);
    expect(section(letter, 'What you can do')).toContain('consider renaming them');
    expect(text).not.toContain('{{');
    // The draft it came from is unchanged, ready for the next person.
    expect(textOf(template)).toContain(noticePlaceholders.categories);
  });
});

describe('category words', () => {
  it('has plain words for every category', () => {
    for (const category of Object.keys(categorySensitivity) as Category[]) {
      expect(categoryWords[category].length).toBeGreaterThan(2);
      expect(categoryWords[category]).not.toContain('_');
    }
  });

  it('lists the most sensitive first, joined with "and"', () => {
    expect(listCategoryWords(['email', 'password', 'email'])).toBe(
      'password (including WiFi passwords) and email address',
    );
    expect(listCategoryWords(['gender'])).toBe('gender');
    expect(listCategoryWords([])).toBe('');
  });

  it('durationWords reads as two units', () => {
    expect(durationWords(90 * 60_000)).toBe('1 hour 30 minutes');
    expect(durationWords(3 * 86_400_000 + 5_000)).toBe('3 days');
    expect(durationWords(500)).toBe('less than a second');
  });
});

const hostileName = '<script>alert(1)</script>';
const hostileTarget = 'http://evil.example/"><img src=x onerror=alert(2)>[click](https://evil.example)';

function hostile(): IncidentRecord {
  return incident({
    store: { name: hostileName, target: hostileTarget, protocol: 'es', owner: '*team* `x`', tags: [] },
    facts: { ...allFacts, controller: 'Evil & Co <b>bold</b>', dpoContact: 'dpo@scales.example" onclick="x' },
  });
}

describe('renderNotice html', () => {
  it.each(noticeKinds)('%s: self-contained, escaped, with banner and missing box', (kind: NoticeKind) => {
    const html = renderNotice(draftNotice({ ...hostile(), facts: {} }, kind, inTime), 'html');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toContain('DRAFT — not yet sent');
    expect(html).toContain('<h2>Still missing</h2>');
    expect(html).toContain('<strong>measuresTaken</strong>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).not.toMatch(/<link|@import|url\(/i);
    // Hostile text shows `src=` as escaped text; only attributes of real tags can fetch anything.
    for (const [tag] of html.matchAll(/<[a-z][^>]*>/gi)) {
      for (const match of tag.matchAll(/\s(?:src|href|action|srcset|poster|data)\s*=\s*["']?([^"'\s>]*)/gi)) {
        expect(match[1]).toMatch(/^(?:mailto|tel):/);
      }
    }
  });

  it('keeps facts as text and links only to addresses built from them', () => {
    const html = renderNotice(draftNotice(hostile(), 'us-ca', inTime), 'html');
    expect(html).toContain('Evil &amp; Co &lt;b&gt;bold&lt;/b&gt;');
    expect(html).not.toMatch(/<[^>]*\sonclick=/);
    expect(html).toContain('<a href="mailto:privacy@scales.example">');
    expect(html).toContain('<a href="tel:18005550100">');
    expect([...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1])).toEqual([
      'mailto:privacy@scales.example',
      'mailto:dpo@scales.example',
      'tel:18005550100',
    ]);
    expect(html).not.toContain('Still missing');
  });

  it('sets body text at 10pt or more and designates the headings', () => {
    const html = renderNotice(draftNotice(incident(), 'us-ca', inTime), 'html');
    const sizes = [...html.matchAll(/font-size:\s*([\d.]+)(\w+)/g)].map((m) => ({
      n: Number(m[1]),
      unit: m[2],
    }));
    expect(sizes.length).toBeGreaterThan(0);
    for (const size of sizes) {
      expect(size.unit).toBe('pt');
      expect(size.n).toBeGreaterThanOrEqual(10);
    }
    expect(html).toMatch(/body\{[^}]*font-size:1\dpt/);
    expect(html).toContain('<h1>Notice of Data Breach</h1>');
    const headings = [...html.matchAll(/<main>[\s\S]*?<\/main>/g)][0]?.[0].match(/<h2>[^<]*<\/h2>/g);
    expect(headings).toEqual([
      '<h2>What Happened</h2>',
      '<h2>What Information Was Involved</h2>',
      '<h2>What We Are Doing</h2>',
      '<h2>What You Can Do</h2>',
      '<h2>For More Information</h2>',
    ]);
  });
});

describe('renderNotice markdown', () => {
  it('escapes target strings and facts so they stay text', () => {
    const md = renderNotice(draftNotice(hostile(), 'gdpr-33', inTime), 'markdown');
    expect(md.startsWith('> **DRAFT — not yet sent**')).toBe(true);
    expect(md).not.toContain('<script>');
    expect(md).toContain('\\<script\\>alert(1)\\</script\\>');
    expect(md).not.toMatch(/(?<!\\)<img/);
    expect(md).not.toContain('[click](');
    expect(md).toContain('\\[click\\](https://evil.example)');
    expect(md).toContain('\\*team\\* \\`x\\`');
    expect(md).toContain('Evil \\& Co \\<b\\>bold\\</b\\>');
    expect(md).toContain('[dpo@scales.example](<mailto:dpo@scales.example>)');
  });

  it('lists what is missing and keeps a fact from starting a block of its own', () => {
    const md = renderNotice(
      draftNotice(
        incident({ facts: { measuresTaken: 'Rotated keys.\n# Owned\n- list\n1. one' } }),
        'gdpr-33',
        inTime,
      ),
      'markdown',
    );
    expect(md).toContain('> **Still missing**');
    expect(md).toContain('> - **controller**:');
    const headings = md.split('\n').filter((line) => line.startsWith('#'));
    expect(headings).toEqual([
      '# Notification of a personal data breach to the supervisory authority (GDPR Art. 33), INC-0007',
      '## Controller and contact point',
      '## Nature of the breach',
      '## Likely consequences',
      '## Measures taken or proposed',
      '## Timeline',
      '## Information provided in phases',
    ]);
    expect(md).toContain('\\# Owned  \n\\- list  \n1\\. one');
  });
});
