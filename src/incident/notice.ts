import { categorySensitivity, type Category, type Sensitivity } from '../core/category.js';
import { sanitizeText } from '../core/redact.js';
import type { ExposureWindow } from '../watch/watch-event.js';
import { categoryWords, listCategoryWords, orderCategories } from './category-words.js';
import type { Deadline, IncidentFacts, IncidentRecord, Jurisdiction } from './incident.js';
import { computeDeadlines } from './jurisdictions.js';

/** Whom a notice is for: the GDPR authority, GDPR individuals, California residents, HIPAA individuals. */
export type NoticeKind = 'gdpr-33' | 'gdpr-34' | 'us-ca' | 'hipaa';
export const noticeKinds = ['gdpr-33', 'gdpr-34', 'us-ca', 'hipaa'] as const satisfies readonly NoticeKind[];

/** Only `mailto:` and `tel:` links, built from facts: a notice never points at anything on the web. */
export interface NoticeLink {
  text: string;
  href: string;
}

export interface NoticeSection {
  heading: string;
  paragraphs: string[];
  bullets?: string[];
  links?: NoticeLink[];
}

/** A fact the notice needs that measurement cannot supply, or a condition that must change before sending. */
export interface MissingItem {
  field: string;
  why: string;
}

/**
 * Plain text throughout: each format escapes when rendering. `notes` are for whoever sends the notice
 * (store, deadlines, conditions) and are never part of the notice itself.
 */
export interface NoticeDraft {
  kind: NoticeKind;
  title: string;
  sections: NoticeSection[];
  missing: MissingItem[];
  notes: string[];
}

/**
 * The per-person parts of the GDPR Art. 34 letter: `notify` fills them with `personalizeNotice`, so no
 * person reads about categories of data that were not theirs. `advice` stands alone as a bullet.
 */
export const noticePlaceholders = { categories: '{{categories}}', advice: '{{advice}}' } as const;

const hour = 3_600_000;

// Text that came from a target (store names, targets, collection names) is hostile: DESIGN.md invariant 4.
function fromTarget(text: string, max = 200): string {
  return sanitizeText(text, max);
}

function ask(what: string): string {
  return `[to be completed: ${what}]`;
}

function fact(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

function plural(n: number, noun: string): string {
  return `${formatCount(n)} ${noun}${n === 1 ? '' : 's'}`;
}

function people(n: number): string {
  return `${formatCount(n)} ${n === 1 ? 'person' : 'people'}`;
}

const months = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

type DateStyle = 'eu' | 'us';

// Written out, so no reader confuses 03/04 across the Atlantic; UTC, because the probes measured in UTC.
function formatDay(iso: string, style: DateStyle): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return fromTarget(iso, 40);
  const d = new Date(ms);
  const month = months[d.getUTCMonth()] ?? '';
  return style === 'us'
    ? `${month} ${d.getUTCDate()}, ${d.getUTCFullYear()}`
    : `${d.getUTCDate()} ${month} ${d.getUTCFullYear()}`;
}

function formatMoment(iso: string, style: DateStyle): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return fromTarget(iso, 40);
  const time = new Date(ms).toISOString().slice(11, 16);
  return `${formatDay(iso, style)}, ${time} UTC`;
}

/** `3 days 4 hours`: the two largest units, in words. */
export function durationWords(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return 'an unknown time';
  if (ms < 1000) return 'less than a second';
  const units: [string, number][] = [
    ['day', 24 * hour],
    ['hour', hour],
    ['minute', 60_000],
    ['second', 1000],
  ];
  const parts: string[] = [];
  let rest = Math.floor(ms);
  for (const [name, size] of units) {
    const amount = Math.floor(rest / size);
    rest -= amount * size;
    if (amount > 0) parts.push(`${amount} ${name}${amount === 1 ? '' : 's'}`);
    if (parts.length === 2 || (parts.length === 1 && amount === 0)) break;
  }
  return parts.join(' ');
}

function spanMs(from: string | undefined, to: string | undefined): number | undefined {
  if (from === undefined || to === undefined) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) ? ms : undefined;
}

/** For the authority: what the probes bound, and no more. */
function windowFacts(window: ExposureWindow, now: Date): string[] {
  const m = (iso: string) => formatMoment(iso, 'eu');
  const began =
    window.openedAfter === undefined
      ? `The store was already open when monitoring began: the first probe found it open at ${m(window.openedAt)}, and the exposure may have begun earlier.`
      : `The exposure began after ${m(window.openedAfter)}, when a probe last found the store protected, and no later than ${m(window.openedAt)}, when a probe first found it open.`;
  if (window.closedAt === undefined) {
    const sofar = Math.max(window.durationMs, now.getTime() - Date.parse(window.openedAt));
    return [
      began,
      `The exposure is ongoing: the last probe, at ${m(window.lastOpenAt)}, still found the store open. Open for ${durationWords(sofar)} so far.`,
    ];
  }
  const atLeast = spanMs(window.openedAt, window.lastOpenAt);
  const atMost = spanMs(window.openedAfter, window.closedAt);
  const measured = durationWords(window.durationMs);
  // Probes minutes apart bound a days-long window to the same words; repeating them says nothing.
  const bounds = [
    ...(atLeast === undefined || durationWords(atLeast) === measured
      ? []
      : [`at least ${durationWords(atLeast)}`]),
    ...(atMost === undefined || durationWords(atMost) === measured
      ? []
      : [`at most ${durationWords(atMost)}`]),
  ];
  return [
    began,
    `It ended after ${m(window.lastOpenAt)}, when a probe last found the store open, and no later than ${m(window.closedAt)}, when a probe found it protected again.`,
    `Duration of the exposure: ${measured} as measured from the first open probe to the first protected one${bounds.length > 0 ? ` (${bounds.join(', ')})` : ''}.`,
  ];
}

/** For individuals: one sentence with the date range. */
function windowSentence(window: ExposureWindow, now: Date, style: DateStyle): string {
  const m = (iso: string) => formatMoment(iso, style);
  const began =
    window.openedAfter === undefined
      ? `began on or before ${m(window.openedAt)}`
      : `began between ${m(window.openedAfter)} and ${m(window.openedAt)}`;
  if (window.closedAt === undefined) {
    const sofar = Math.max(window.durationMs, now.getTime() - Date.parse(window.openedAt));
    return `The exposure ${began} and had not ended when this notice was written (${durationWords(sofar)} so far).`;
  }
  return `The exposure ${began} and ended by ${m(window.closedAt)}, about ${durationWords(window.durationMs)} in all.`;
}

// "name of your WiFi network" is right in a letter; the authority reads about the people in the third person.
function authorityWords(category: Category): string {
  return categoryWords[category].replace(/\byour\b/g, "the person's").replace(/\byou\b/g, 'the person');
}

const sensitivityNote = {
  secret: ' (credential: whoever holds it can act as the person or system)',
  special: ' (sensitive)',
  personal: '',
  low: '',
} as const satisfies Record<Sensitivity, string>;

function exposedCategories(incident: IncidentRecord): Category[] {
  const counted = Object.keys(incident.subjects.byCategory).filter(
    (key): key is Category => key in categorySensitivity,
  );
  return orderCategories([...incident.categories, ...counted]);
}

function categoryBullets(incident: IncidentRecord, words: (category: Category) => string): string[] {
  return exposedCategories(incident).map((category) => {
    const n = incident.subjects.byCategory[category];
    const count = n === undefined ? 'number of people not measured' : people(n);
    return `${words(category)} [${category}]: ${count}${sensitivityNote[categorySensitivity[category]]}`;
  });
}

interface Group {
  categories: readonly Category[];
  text: string;
}

/** What a person can do, by what of theirs leaked; advice for data they did not lose would only alarm. */
const adviceGroups: readonly Group[] = [
  {
    categories: ['password', 'password_hash'],
    text: 'Change your password with us, and with any other service where you use the same password.',
  },
  {
    categories: ['password'],
    text: "If you saved your WiFi password with us, change it in your router's settings.",
  },
  {
    categories: ['api_token', 'jwt', 'oauth_token'],
    text: 'Sign out of all sessions and sign in again, and remove any app or linked account (such as Amazon Alexa or Google) you do not recognise.',
  },
  {
    categories: ['private_key', 'cloud_credential'],
    text: 'Replace (rotate) the keys that were involved and check the services they open for activity you do not recognise.',
  },
  {
    categories: ['payment_card', 'bank_account'],
    text: 'Check your card and bank statements and report any payment you do not recognise to your bank.',
  },
  {
    categories: ['national_id'],
    text: 'Consider placing a free fraud alert or security freeze on your credit file, and check your credit reports for accounts you did not open.',
  },
  {
    categories: ['wifi_ssid', 'device_name'],
    text: 'If the name of your WiFi network or of your devices points to you or your home, consider renaming them.',
  },
  {
    categories: ['ip_address', 'network_layout', 'mac_address', 'device_id'],
    text: "Keep your router's and devices' software up to date, and change the router's administrator password if it is still the default.",
  },
  {
    categories: ['health_metric', 'gender', 'date_of_birth', 'geolocation'],
    text: 'Be wary of messages that refer to your health, age or whereabouts to gain your trust.',
  },
];

const generalAdvice =
  'Be careful with emails, text messages, calls or letters that mention this incident or ask for personal details, and do not give passwords or payment details in reply.';

/** What a person should do, for their own categories only, general phishing advice last. */
export function adviceFor(categories: readonly Category[]): string[] {
  const own = new Set(categories);
  return [
    ...adviceGroups.filter((g) => g.categories.some((c) => own.has(c))).map((g) => g.text),
    generalAdvice,
  ];
}

/** Consequences to weigh when the facts do not state them yet (Art. 33(3)(c)). */
const consequenceGroups: readonly Group[] = [
  {
    categories: [
      'password',
      'password_hash',
      'api_token',
      'oauth_token',
      'jwt',
      'private_key',
      'cloud_credential',
    ],
    text: 'Account or system takeover: credentials and tokens let whoever copied them act as the person or system until they are revoked.',
  },
  {
    categories: ['payment_card', 'bank_account'],
    text: 'Financial loss through fraudulent payments.',
  },
  {
    categories: ['national_id', 'date_of_birth', 'person_name'],
    text: 'Identity theft: names, dates of birth and government ids are what fraudsters need to open accounts in a person’s name.',
  },
  {
    categories: ['health_metric', 'gender'],
    text: 'Disclosure of health data and other sensitive data: distress, embarrassment, discrimination.',
  },
  {
    categories: ['wifi_ssid', 'geolocation', 'postal_address', 'network_layout'],
    text: 'Locating people and their homes: a WiFi network name can be looked up in public WiFi maps, and coordinates or addresses point to a door.',
  },
  {
    categories: ['email', 'phone', 'username'],
    text: 'Phishing and unwanted contact that quotes the real data to seem genuine.',
  },
];

function consequencesFor(categories: readonly Category[]): string[] {
  const own = new Set(categories);
  return consequenceGroups.filter((g) => g.categories.some((c) => own.has(c))).map((g) => g.text);
}

const emailPattern = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;

function contactLinks(
  facts: IncidentFacts,
  fields: readonly ('dpoContact' | 'contactPoint')[],
  withPhone: boolean,
): NoticeLink[] {
  const links: NoticeLink[] = [];
  for (const field of fields) {
    for (const address of facts[field]?.match(emailPattern) ?? []) {
      links.push({ text: address, href: `mailto:${address}` });
    }
  }
  const phone = withPhone ? fact(facts.tollFreeNumber) : undefined;
  const digits = phone?.replace(/[^\d+]/g, '');
  if (phone !== undefined && digits !== undefined && /^\+?\d{6,15}$/.test(digits)) {
    links.push({ text: phone, href: `tel:${digits}` });
  }
  const seen = new Set<string>();
  return links.filter((link) => !seen.has(link.href) && seen.add(link.href));
}

const jurisdictionOf = {
  'gdpr-33': 'gdpr',
  'gdpr-34': 'gdpr',
  'us-ca': 'us-ca',
  hipaa: 'hipaa',
} as const satisfies Record<NoticeKind, Jurisdiction>;

const deadlineIds = {
  'gdpr-33': ['gdpr-33'],
  'gdpr-34': ['gdpr-34'],
  'us-ca': ['us-ca-individuals', 'us-ca-attorney-general'],
  hipaa: ['hipaa-individuals', 'hipaa-hhs'],
} as const satisfies Record<NoticeKind, readonly Deadline['id'][]>;

/** The incident's own deadlines; recomputed from awareness when the record predates them. */
function deadlinesFor(incident: IncidentRecord, kind: NoticeKind): Deadline[] {
  const ids: readonly Deadline['id'][] = deadlineIds[kind];
  const own = incident.deadlines.filter((d) => ids.includes(d.id));
  if (own.length > 0) return own;
  const aware = new Date(incident.awareAt);
  if (Number.isNaN(aware.getTime())) return [];
  return computeDeadlines([jurisdictionOf[kind]], aware).filter((d) => ids.includes(d.id));
}

function describeDeadline(deadline: Deadline, now: Date, style: DateStyle): string {
  const due =
    deadline.dueAt === undefined
      ? `no fixed period: ${deadline.rule}`
      : `due ${formatMoment(deadline.dueAt, style)} (${deadline.rule})`;
  const overdue =
    deadline.dueAt !== undefined &&
    deadline.doneAt === undefined &&
    now.getTime() > Date.parse(deadline.dueAt)
      ? ' - OVERDUE'
      : '';
  const condition = deadline.condition === undefined ? '' : `; only ${deadline.condition}`;
  const done = deadline.doneAt === undefined ? '' : `; done ${formatMoment(deadline.doneAt, style)}`;
  return `${deadline.law}, to the ${deadline.audience}: ${due}${condition}${done}${overdue}`;
}

function storeNote(incident: IncidentRecord): string {
  const store = incident.store;
  const owner = store.owner === undefined ? '' : `, owner ${fromTarget(store.owner, 120)}`;
  return `Incident ${fromTarget(incident.ref, 40)}: store "${fromTarget(store.name, 120)}" (${fromTarget(store.protocol, 40)}, ${fromTarget(store.target)}${owner}).`;
}

interface Requirement {
  field: string;
  present: boolean;
  why: string;
}

function missingOf(requirements: readonly Requirement[], incident: IncidentRecord): MissingItem[] {
  const missing = requirements.filter((r) => !r.present).map(({ field, why }) => ({ field, why }));
  if (incident.window.closedAt === undefined) {
    missing.push({
      field: 'window',
      why: 'The window is still open: the store answered without credentials at the last probe. Close it before notifying; the end of the exposure is not known yet.',
    });
  }
  return missing;
}

interface Context {
  incident: IncidentRecord;
  facts: IncidentFacts;
  now: Date;
  categories: Category[];
  deadlines: Deadline[];
}

function contactText(ctx: Context): string | undefined {
  return fact(ctx.facts.contactPoint) ?? fact(ctx.facts.dpoContact);
}

function draftGdpr33(ctx: Context): NoticeDraft {
  const { incident, facts, now } = ctx;
  const w = incident.window;
  const m = (iso: string) => formatMoment(iso, 'eu');
  const controller = fact(facts.controller);
  const dpo = fact(facts.dpoContact);
  const contact = fact(facts.contactPoint);
  const deadline = ctx.deadlines.find((d) => d.id === 'gdpr-33');
  const dueMs = deadline?.dueAt === undefined ? undefined : Date.parse(deadline.dueAt);
  const sentMs = deadline?.doneAt === undefined ? now.getTime() : Date.parse(deadline.doneAt);
  const late = dueMs !== undefined && sentMs > dueMs;
  const subjectCategories = fact(facts.subjectCategories);
  const consequences = fact(facts.consequences);
  const taken = fact(facts.measuresTaken);
  const proposed = fact(facts.measuresProposed);
  const delayReasons = fact(facts.delayReasons);

  const requirements: Requirement[] = [
    {
      field: 'controller',
      present: controller !== undefined,
      why: 'Who the controller is: the authority needs the notifying party.',
    },
    {
      field: 'dpoContact',
      present: dpo !== undefined || contact !== undefined,
      why: 'Art. 33(3)(b): name and contact details of the data protection officer (or set contactPoint for another contact point).',
    },
    {
      field: 'subjectCategories',
      present: subjectCategories !== undefined,
      why: 'Art. 33(3)(a): the categories of data subjects (customers, employees, children, ...) are not visible in the data.',
    },
    {
      field: 'records',
      present: incident.records !== undefined,
      why: 'Art. 33(3)(a): the approximate number of personal data records was not measured; re-classify the store.',
    },
    {
      field: 'consequences',
      present: consequences !== undefined,
      why: 'Art. 33(3)(c): the likely consequences of the breach.',
    },
    {
      field: 'measuresTaken',
      present: taken !== undefined,
      why: 'Art. 33(3)(d): the measures taken to address the breach.',
    },
    {
      field: 'measuresProposed',
      present: proposed !== undefined,
      why: 'Art. 33(3)(d): the measures proposed, including those to mitigate possible adverse effects.',
    },
    ...(late
      ? [
          {
            field: 'delayReasons',
            present: delayReasons !== undefined,
            why: 'Art. 33(1): a notification made after 72 hours must give the reasons for the delay.',
          },
        ]
      : []),
  ];
  const missing = missingOf(requirements, incident);

  const collections = new Set(incident.fields.map((f) => f.collection)).size;
  const sections: NoticeSection[] = [
    {
      heading: 'Controller and contact point',
      paragraphs: [
        `Controller: ${controller ?? ask('name and address of the controller')}`,
        ...(dpo === undefined && contact === undefined
          ? [`Data protection officer or other contact point: ${ask('name and contact details')}`]
          : []),
        ...(dpo === undefined ? [] : [`Data protection officer: ${dpo}`]),
        ...(contact === undefined ? [] : [`Contact point for more information: ${contact}`]),
        `Our reference: ${fromTarget(incident.ref, 40)}`,
      ],
      links: contactLinks(facts, ['dpoContact', 'contactPoint'], false),
    },
    {
      heading: 'Nature of the breach',
      paragraphs: [
        `A breach of confidentiality: the data store "${fromTarget(incident.store.name, 120)}" (${fromTarget(incident.store.protocol, 40)}, ${fromTarget(incident.store.target)}) answered requests without any credentials, so anyone who could reach it could read, and possibly change or delete, the personal data it held.`,
        ...windowFacts(w, now),
        `Data subjects concerned: approximately ${people(incident.subjects.total)}, counted as distinct people from the data itself. Categories of data subjects: ${subjectCategories ?? ask('customers, employees, children, ...')}.`,
        incident.records === undefined
          ? `Personal data records concerned: ${ask('approximate number of records')}.`
          : `Personal data records concerned: approximately ${formatCount(incident.records)} records, in ${plural(incident.fields.length, 'field')} of ${plural(collections, 'collection')}.`,
        'Categories of personal data concerned, each with the number of people whose data of that category was exposed:',
      ],
      bullets: categoryBullets(incident, authorityWords),
    },
    {
      heading: 'Likely consequences',
      paragraphs: [
        consequences ?? ask('likely consequences of the breach for the data subjects'),
        ...(consequences === undefined
          ? ['Consequences to weigh, from the categories of data exposed:']
          : []),
      ],
      ...(consequences === undefined ? { bullets: consequencesFor(ctx.categories) } : {}),
    },
    {
      heading: 'Measures taken or proposed',
      paragraphs: [
        w.closedAt === undefined
          ? `Containment: not yet achieved. The store still answered without credentials at ${m(w.lastOpenAt)}.`
          : `Containment: the store has required credentials again since ${m(w.closedAt)}${incident.containedAt === undefined ? '' : `; contained as recorded on ${m(incident.containedAt)}`}.`,
        `Measures taken: ${taken ?? ask('measures taken to address the breach')}`,
        `Measures proposed, including to mitigate possible adverse effects: ${proposed ?? ask('measures proposed')}`,
        `Communication to the data subjects (Art. 34): ${formatCount(incident.reachable)} of the ${people(incident.subjects.total)} have a contact address on file.`,
      ],
    },
    {
      heading: 'Timeline',
      paragraphs: [],
      bullets: [
        w.openedAfter === undefined
          ? `Exposure began: on or before ${m(w.openedAt)}`
          : `Exposure began: between ${m(w.openedAfter)} and ${m(w.openedAt)}`,
        `Detected by monitoring: ${m(incident.detectedAt)}`,
        `Controller became aware: ${m(incident.awareAt)}`,
        ...(incident.containedAt === undefined ? [] : [`Contained: ${m(incident.containedAt)}`]),
        w.closedAt === undefined ? 'Exposure ended: not yet' : `Exposure ended: by ${m(w.closedAt)}`,
        deadline?.dueAt === undefined
          ? 'Notification due: within 72 hours of awareness (Art. 33(1))'
          : `Notification due: ${m(deadline.dueAt)} (72 hours after awareness, Art. 33(1))`,
        `This notification drafted: ${m(now.toISOString())}`,
      ],
    },
  ];
  if (late) {
    sections.push({
      heading: 'Reasons for the delay',
      paragraphs: [
        `This notification is made ${durationWords(sentMs - dueMs)} after the 72-hour period ended on ${m(new Date(dueMs).toISOString())}. Art. 33(1) requires the reasons for the delay.`,
        delayReasons ?? ask('reasons for the delay'),
      ],
    });
  }
  const outstanding = missing.map((item) => item.field);
  sections.push({
    heading: 'Information provided in phases',
    paragraphs: [
      `Where it is not possible to provide all information at the same time, Art. 33(4) allows it to be provided in phases without undue further delay.${outstanding.length > 0 ? ` Still to follow: ${outstanding.join(', ')}.` : ''}`,
    ],
  });
  return {
    kind: 'gdpr-33',
    title: `Notification of a personal data breach to the supervisory authority (GDPR Art. 33), ${fromTarget(incident.ref, 40)}`,
    sections,
    missing,
    notes: [storeNote(incident), ...ctx.deadlines.map((d) => describeDeadline(d, now, 'eu'))],
  };
}

function draftGdpr34(ctx: Context): NoticeDraft {
  const { incident, facts, now } = ctx;
  const w = incident.window;
  const controller = fact(facts.controller);
  const dpo = fact(facts.dpoContact);
  const contact = fact(facts.contactPoint);
  const consequences = fact(facts.consequences);
  const taken = fact(facts.measuresTaken);
  const proposed = fact(facts.measuresProposed);
  const advice = fact(facts.adviceToIndividuals);
  const requirements: Requirement[] = [
    { field: 'controller', present: controller !== undefined, why: 'The letter must say who is writing.' },
    {
      field: 'dpoContact',
      present: dpo !== undefined || contact !== undefined,
      why: 'Art. 34(2) with 33(3)(b): name and contact details of the data protection officer (or set contactPoint for another contact point).',
    },
    {
      field: 'consequences',
      present: consequences !== undefined,
      why: 'Art. 34(2) with 33(3)(c): the likely consequences, in plain language.',
    },
    {
      field: 'measuresTaken',
      present: taken !== undefined,
      why: 'Art. 34(2) with 33(3)(d): the measures taken to address the breach.',
    },
    {
      field: 'measuresProposed',
      present: proposed !== undefined,
      why: 'Art. 34(2) with 33(3)(d): the measures proposed, including those that limit harm to the person.',
    },
  ];
  const total = incident.subjects.total;
  const sections: NoticeSection[] = [
    {
      heading: 'What happened',
      paragraphs: [
        `We are writing to tell you about a security problem at ${controller ?? ask('name of the controller')} that affected your personal data.`,
        `One of our databases could be read without a password. ${windowSentence(w, now, 'eu')}`,
        `It held information about ${people(total)}, including you. Our monitoring detected the problem on ${formatMoment(incident.detectedAt, 'eu')}.`,
      ],
    },
    {
      heading: 'What information about you was involved',
      paragraphs: [`The information about you in the database: ${noticePlaceholders.categories}.`],
    },
    {
      heading: 'What this may mean for you',
      paragraphs: [consequences ?? ask('likely consequences for the person, in plain language')],
    },
    {
      heading: 'What we are doing',
      paragraphs: [
        ...(w.closedAt === undefined
          ? []
          : [`The database has required a password again since ${formatMoment(w.closedAt, 'eu')}.`]),
        taken ?? ask('measures taken'),
        proposed ?? ask('measures proposed'),
      ],
    },
    {
      heading: 'What you can do',
      paragraphs: ['We recommend that you:'],
      bullets: [noticePlaceholders.advice, ...(advice === undefined ? [] : [advice])],
    },
    {
      heading: 'Contact',
      paragraphs: [
        ...(dpo === undefined && contact === undefined
          ? [`If you have questions, contact ${ask('data protection officer or other contact point')}.`]
          : []),
        ...(dpo === undefined ? [] : [`If you have questions, contact our data protection officer: ${dpo}`]),
        ...(contact === undefined ? [] : [`You can also reach us at: ${contact}`]),
        `Please quote the reference ${fromTarget(incident.ref, 40)}. You also have the right to lodge a complaint with a data protection supervisory authority.`,
      ],
      links: contactLinks(facts, ['dpoContact', 'contactPoint'], false),
    },
  ];
  return {
    kind: 'gdpr-34',
    title: 'A personal data breach affecting you',
    sections,
    missing: missingOf(requirements, incident),
    notes: [
      storeNote(incident),
      `Template: ${noticePlaceholders.categories} and ${noticePlaceholders.advice} are filled per person with only that person's categories (personalizeNotice).`,
      `${formatCount(incident.reachable)} of the ${people(total)} have a contact address; where individual letters would take disproportionate effort, Art. 34(3)(c) asks for a public communication instead.`,
      ...ctx.deadlines.map((d) => describeDeadline(d, now, 'eu')),
    ],
  };
}

// The three nationwide agencies, as §1798.82(d)(2)(F) asks; published by each agency and the state regulators.
const creditReportingAgencies = [
  'Equifax: 1-800-685-1111, P.O. Box 105788, Atlanta, GA 30348-5788, www.equifax.com',
  'Experian: 1-888-397-3742, P.O. Box 9554, Allen, TX 75013, www.experian.com',
  'TransUnion: 1-888-909-8872, P.O. Box 2000, Chester, PA 19016-2000, www.transunion.com',
];

function draftUsCa(ctx: Context): NoticeDraft {
  const { incident, facts, now } = ctx;
  const w = incident.window;
  const controller = fact(facts.controller);
  const contact = contactText(ctx);
  const taken = fact(facts.measuresTaken);
  const proposed = fact(facts.measuresProposed);
  const advice = fact(facts.adviceToIndividuals);
  const idServices = fact(facts.identityTheftServices);
  const lawEnforcement = facts.lawEnforcementDelay;
  const nationalId = ctx.categories.includes('national_id');
  const total = incident.subjects.total;
  const requirements: Requirement[] = [
    {
      field: 'controller',
      present: controller !== undefined,
      why: 'Cal. Civ. Code §1798.82(d)(2)(A): the name of the business giving notice.',
    },
    {
      field: 'contactPoint',
      present: contact !== undefined,
      why: 'Cal. Civ. Code §1798.82(d)(2)(A): contact information of the business.',
    },
    {
      field: 'lawEnforcementDelay',
      present: lawEnforcement !== undefined,
      why: 'Cal. Civ. Code §1798.82(d)(2)(E): whether notification was delayed by a law enforcement investigation.',
    },
    {
      field: 'measuresTaken',
      present: taken !== undefined,
      why: '"What We Are Doing": what was done about the breach.',
    },
    {
      field: 'measuresProposed',
      present: proposed !== undefined,
      why: '"What We Are Doing": what will be done to prevent another.',
    },
    ...(nationalId
      ? [
          {
            field: 'identityTheftServices',
            present: idServices !== undefined,
            why: 'Cal. Civ. Code §1798.82(d)(2)(G): government id numbers were exposed; if the business was the source, offer identity theft prevention and mitigation services at no cost for at least 12 months, with how to enroll.',
          },
        ]
      : []),
  ];
  const m = (iso: string) => formatMoment(iso, 'us');
  const discovered =
    incident.detectedAt === incident.awareAt
      ? `We discovered the breach on ${m(incident.awareAt)}.`
      : `Our monitoring detected the breach on ${m(incident.detectedAt)}, and we confirmed it on ${m(incident.awareAt)}.`;
  const delaySentence =
    lawEnforcement === undefined
      ? ask('whether a law enforcement investigation delayed this notice')
      : lawEnforcement
        ? 'This notice was delayed at the request of law enforcement, whose investigation it could have impeded.'
        : 'This notice was not delayed by a law enforcement investigation.';
  const sections: NoticeSection[] = [
    {
      heading: 'What Happened',
      paragraphs: [
        `Date of this notice: ${formatDay(now.toISOString(), 'us')}.`,
        `${controller ?? ask('name of the business')} kept a database that could be read without a password. ${windowSentence(w, now, 'us')}`,
        discovered,
        delaySentence,
      ],
    },
    {
      heading: 'What Information Was Involved',
      paragraphs: [
        `The database held personal information about ${people(total)}. ${
          nationalId
            ? 'Social Security numbers, driver\'s license or California identification card numbers were involved: the credit reporting agencies you can contact are listed under "What You Can Do".'
            : "No Social Security numbers, driver's license or California identification card numbers were involved."
        }`,
        'The types of personal information involved:',
      ],
      bullets: exposedCategories(incident).map((category) => categoryWords[category]),
    },
    {
      heading: 'What We Are Doing',
      paragraphs: [
        ...(w.closedAt === undefined
          ? []
          : [`The database has required a password again since ${m(w.closedAt)}.`]),
        taken ?? ask('what we did about the breach'),
        proposed ?? ask('what we will do to prevent another'),
        ...(nationalId
          ? [idServices ?? ask('free identity theft prevention services for at least 12 months')]
          : []),
      ],
    },
    {
      heading: 'What You Can Do',
      paragraphs: nationalId
        ? [
            'You can place a fraud alert or a free security freeze with the three major credit reporting agencies:',
            ...creditReportingAgencies,
          ]
        : [],
      bullets: [...adviceFor(ctx.categories), ...(advice === undefined ? [] : [advice])],
    },
    {
      heading: 'For More Information',
      paragraphs: [
        `If you have questions, contact ${controller ?? ask('name of the business')}: ${contact ?? ask('contact information')}.`,
        ...(fact(facts.tollFreeNumber) === undefined
          ? []
          : [`Call us toll-free: ${fact(facts.tollFreeNumber) ?? ''}.`]),
        `Please quote the reference ${fromTarget(incident.ref, 40)}.`,
      ],
      links: contactLinks(facts, ['contactPoint', 'dpoContact'], true),
    },
  ];
  const notes = [
    storeNote(incident),
    total > 500
      ? `${people(total)} affected: if more than 500 are California residents, submit a sample copy of this notice to the Attorney General (Cal. Civ. Code §1798.82(f)). Residency is not measured.`
      : `${people(total)} affected: 500 or fewer, so no Attorney General sample copy is required (Cal. Civ. Code §1798.82(f)).`,
    nationalId
      ? 'Government id numbers were exposed: the credit reporting agencies are listed, as §1798.82(d)(2)(F) requires; check their numbers and addresses are current before sending.'
      : "No government id numbers were exposed: the credit reporting agencies are left out, as §1798.82(d)(2)(F) requires them only for Social Security, driver's license or ID card numbers.",
    'Format (§1798.82(d)(1)): title and headings as given, in this order; text no smaller than 10-point type.',
    ...ctx.deadlines.map((d) => describeDeadline(d, now, 'us')),
  ];
  return {
    kind: 'us-ca',
    title: 'Notice of Data Breach',
    sections,
    missing: missingOf(requirements, incident),
    notes,
  };
}

function draftHipaa(ctx: Context): NoticeDraft {
  const { incident, facts, now } = ctx;
  const w = incident.window;
  const controller = fact(facts.controller);
  const contact = contactText(ctx);
  const tollFree = fact(facts.tollFreeNumber);
  const taken = fact(facts.measuresTaken);
  const proposed = fact(facts.measuresProposed);
  const advice = fact(facts.adviceToIndividuals);
  const total = incident.subjects.total;
  const requirements: Requirement[] = [
    {
      field: 'controller',
      present: controller !== undefined,
      why: 'The covered entity (or business associate) giving notice.',
    },
    {
      field: 'tollFreeNumber',
      present: tollFree !== undefined,
      why: '45 CFR §164.404(c)(1)(E): contact procedures must include a toll-free telephone number.',
    },
    {
      field: 'contactPoint',
      present: contact !== undefined,
      why: '45 CFR §164.404(c)(1)(E): an email address, website or postal address besides the toll-free number.',
    },
    {
      field: 'measuresTaken',
      present: taken !== undefined,
      why: '45 CFR §164.404(c)(1)(D): what is being done to investigate the breach and mitigate harm.',
    },
    {
      field: 'measuresProposed',
      present: proposed !== undefined,
      why: '45 CFR §164.404(c)(1)(D): what is being done to protect against further breaches.',
    },
  ];
  const m = (iso: string) => formatMoment(iso, 'us');
  const sections: NoticeSection[] = [
    {
      heading: 'What Happened',
      paragraphs: [
        `${controller ?? ask('name of the covered entity')} kept a database holding health information that could be read without a password. ${windowSentence(w, now, 'us')}`,
        `Date of discovery: ${m(incident.awareAt)}${incident.detectedAt === incident.awareAt ? '' : ` (our monitoring first detected it on ${m(incident.detectedAt)})`}.`,
        `The database held information about ${people(total)}.`,
      ],
    },
    {
      heading: 'What Information Was Involved',
      paragraphs: ['The types of information involved:'],
      bullets: exposedCategories(incident).map((category) => categoryWords[category]),
    },
    {
      heading: 'What You Should Do',
      paragraphs: ['To protect yourself from possible harm, we recommend that you:'],
      bullets: [...adviceFor(ctx.categories), ...(advice === undefined ? [] : [advice])],
    },
    {
      heading: 'What We Are Doing',
      paragraphs: [
        ...(w.closedAt === undefined
          ? []
          : [`The database has required a password again since ${m(w.closedAt)}.`]),
        taken ?? ask('what we are doing to investigate and to mitigate harm'),
        proposed ?? ask('what we are doing to protect against further breaches'),
      ],
    },
    {
      heading: 'For More Information',
      paragraphs: [
        `Call us toll-free at ${tollFree ?? ask('toll-free number')}, or contact us at ${contact ?? ask('email address, website or postal address')}.`,
        `Please quote the reference ${fromTarget(incident.ref, 40)}.`,
      ],
      links: contactLinks(facts, ['contactPoint', 'dpoContact'], true),
    },
  ];
  const notes = [
    storeNote(incident),
    total >= 500
      ? `${people(total)} affected: notify the Secretary of HHS at the same time (45 CFR §164.408(b)), and prominent media outlets if more than 500 residents of one State or jurisdiction are affected (§164.406).`
      : `${people(total)} affected: fewer than 500, so the breach goes into the annual log to HHS (45 CFR §164.408(c)).`,
    'Plain language is required (45 CFR §164.404(c)(2)); send by first-class mail, or by email where the person agreed to it (§164.404(d)(1)).',
    ...ctx.deadlines.map((d) => describeDeadline(d, now, 'us')),
  ];
  return {
    kind: 'hipaa',
    title: 'Notice of Breach of Unsecured Protected Health Information',
    sections,
    missing: missingOf(requirements, incident),
    notes,
  };
}

const drafters = {
  'gdpr-33': draftGdpr33,
  'gdpr-34': draftGdpr34,
  'us-ca': draftUsCa,
  hipaa: draftHipaa,
} satisfies Record<NoticeKind, (ctx: Context) => NoticeDraft>;

/**
 * A notice of `kind` for `incident`: the measured numbers and dates filled in, every legally required
 * part present, and what measurement cannot supply marked `[to be completed: …]` and listed in `missing`.
 */
export function draftNotice(incident: IncidentRecord, kind: NoticeKind, now: Date = new Date()): NoticeDraft {
  const ctx: Context = {
    incident,
    facts: incident.facts,
    now,
    categories: exposedCategories(incident),
    deadlines: deadlinesFor(incident, kind),
  };
  return drafters[kind](ctx);
}

function fill(text: string, words: string): string {
  return text.split(noticePlaceholders.categories).join(words);
}

/** The draft for one person: their own categories in words, and advice for those only. */
export function personalizeNotice(draft: NoticeDraft, categories: readonly Category[]): NoticeDraft {
  const own = orderCategories(categories);
  const words = own.length === 0 ? 'none of the kinds of information we track' : listCategoryWords(own);
  const advice = adviceFor(own);
  return {
    ...draft,
    title: fill(draft.title, words),
    sections: draft.sections.map((section) => ({
      ...section,
      paragraphs: section.paragraphs.map((p) => fill(p, words)),
      ...(section.bullets === undefined
        ? {}
        : {
            bullets: section.bullets.flatMap((b) =>
              b === noticePlaceholders.advice ? advice : [fill(b, words)],
            ),
          }),
    })),
    notes: draft.notes.filter((note) => !note.startsWith('Template:')),
  };
}
