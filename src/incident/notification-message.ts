import type { Category } from '../core/category.js';
import { orderCategories } from './category-words.js';
import type { IncidentRecord } from './incident.js';
import { draftNotice, personalizeNotice, type NoticeDraft, type NoticeKind } from './notice.js';
import { renderNotice } from './notice-render.js';

/** The notices that go to individuals (gdpr-33 is for the authority). */
export type IndividualNoticeKind = Exclude<NoticeKind, 'gdpr-33'>;
export const individualNoticeKinds = [
  'gdpr-34',
  'us-ca',
  'hipaa',
] as const satisfies readonly IndividualNoticeKind[];

/** The deadline a completed campaign of each kind fulfils (incident timeline, `notification`). */
export const campaignDeadline = {
  'gdpr-34': 'gdpr-34',
  'us-ca': 'us-ca-individuals',
  hipaa: 'hipaa-individuals',
} as const satisfies Record<IndividualNoticeKind, string>;

export interface NotificationContent {
  subject: string;
  text: string;
  html: string;
}

/**
 * Phishing follows every breach notice that makes the news; the letter itself says how to tell it
 * apart, and it keeps its promise: renderNotice only links mailto: and tel:, never a login page.
 */
export const phishingWarning = {
  heading: 'How to recognise messages from us',
  paragraphs: [
    'We will never ask you for your password, payment details or any other personal information by email, text message or phone call.',
    'This email contains no links to log in. To check your account, open our app or type our web address yourself.',
    'If anyone contacts you about this incident and asks for a password, a code or a payment, it is not us: do not reply, and report it to us.',
  ],
} as const;

// renderNotice marks every output as a draft for the people who review it; a sent letter is not one.
const htmlBanner = /<p class="banner"[^>]*>[^<]*<\/p>\n/;
const markdownBanner = /^> \*\*DRAFT[^\n]*\n\n/;

function stripBanner(rendered: string, banner: RegExp, what: string): string {
  const stripped = rendered.replace(banner, '');
  // A format change upstream must stop the campaign, not send "DRAFT" to every person.
  if (stripped === rendered || /DRAFT/.test(stripped))
    throw new Error(`the ${what} notice still carries its draft banner`);
  return stripped;
}

/**
 * The incident as one person should read about it: only their categories. GDPR Art. 34 letters
 * are personalised through placeholders; the US letters list the incident's categories, so they are
 * drafted from this view instead, which gives the same per-person result for every kind.
 */
function personView(incident: IncidentRecord, categories: readonly Category[]): IncidentRecord {
  const own = new Set(categories);
  const byCategory: Partial<Record<Category, number>> = {};
  for (const [category, n] of Object.entries(incident.subjects.byCategory) as [Category, number][])
    if (own.has(category)) byCategory[category] = n;
  return {
    ...incident,
    categories: orderCategories(categories),
    subjects: { ...incident.subjects, byCategory },
    fields: [],
  };
}

/** Renders the notice of `kind` for each distinct set of categories once; people share most sets. */
export class NotificationComposer {
  private readonly cache = new Map<string, NotificationContent>();

  constructor(
    private readonly incident: IncidentRecord,
    readonly kind: IndividualNoticeKind,
    private readonly now: Date = new Date(),
  ) {}

  /** What the notice still lacks (facts, an open window): a campaign must not start with gaps. */
  missing(): NoticeDraft['missing'] {
    return draftNotice(this.incident, this.kind, this.now).missing;
  }

  compose(categories: readonly Category[]): NotificationContent {
    const own = orderCategories(categories);
    const key = own.join(',');
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const base = personalizeNotice(draftNotice(personView(this.incident, own), this.kind, this.now), own);
    const draft: NoticeDraft = {
      ...base,
      sections: [...base.sections, { ...phishingWarning, paragraphs: [...phishingWarning.paragraphs] }],
      // Drafting aids for whoever sends; never part of the letter.
      missing: [],
      notes: [],
    };
    const content: NotificationContent = {
      subject: draft.title,
      text: stripBanner(renderNotice(draft, 'markdown'), markdownBanner, 'text'),
      html: stripBanner(renderNotice(draft, 'html'), htmlBanner, 'HTML'),
    };
    this.cache.set(key, content);
    return content;
  }
}
