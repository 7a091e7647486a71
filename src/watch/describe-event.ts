import { formatDuration } from '../core/duration.js';
import { sanitizeText } from '../core/redact.js';
import type { Category } from '../core/category.js';
import type { ExposureSummary, StoreState, WatchEvent } from './watch-event.js';

/** Human text of an alert, shared by the Slack and email channels. Plain text: each format escapes. */
export interface EventDescription {
  /** One line, e.g. "[leakwatch] OPEN: analytics-es (es://127.0.0.1:9200) answers without credentials since …". */
  subject: string;
  lines: string[];
}

const stateWords = {
  unknown: 'has not been probed yet',
  protected: 'requires credentials',
  open: 'answers without credentials',
  unreachable: 'does not answer',
  error: 'answers but breaks its protocol',
} as const satisfies Record<StoreState, string>;

// Enough to name what leaked; the full list is in the event's JSON.
const maxCategoriesShown = 12;
const maxNamesShown = 10;

/** `2026-11-21T22:01:05Z`: ISO 8601 to the second; text that is not a time passes through sanitized. */
export function formatTime(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return sanitizeText(iso, 40);
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `2,400`. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

function storeLabel(event: WatchEvent): string {
  return `${sanitizeText(event.store.name, 120)} (${sanitizeText(event.store.target, 200)})`;
}

function listNames(names: readonly string[]): string {
  const shown = names.slice(0, maxNamesShown).map((name) => sanitizeText(name, 80));
  const more = names.length - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${formatCount(more)} more` : shown.join(', ');
}

/** `protected → open`. */
export function describeStateChange(event: WatchEvent): string {
  return event.fromState === event.toState
    ? `${event.toState} (unchanged)`
    : `${event.fromState} → ${event.toState}`;
}

/** When the exposure began, as precisely as the probes tell, and when it ended if it did. */
export function describeWindow(event: WatchEvent): string | undefined {
  const window = event.window;
  if (!window) return undefined;
  const opened =
    window.openedAfter === undefined
      ? `${formatTime(window.openedAt)} (already open when first watched)`
      : `${formatTime(window.openedAt)} (protected at ${formatTime(window.openedAfter)})`;
  if (window.closedAt === undefined) {
    return `${opened}, still open, ${formatDuration(window.durationMs)} so far`;
  }
  return `${opened} until ${formatTime(window.closedAt)} (last seen open ${formatTime(window.lastOpenAt)}), ${formatDuration(window.durationMs)}`;
}

/** `2,400 people: email 2,400, wifi_ssid 1,900, …`, then records and collections when known. */
export function describeExposure(exposure: ExposureSummary | undefined): string | undefined {
  if (!exposure) return undefined;
  const counted = Object.entries(exposure.subjects.byCategory)
    .filter((entry): entry is [Category, number] => typeof entry[1] === 'number')
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const seen = new Set<string>(counted.map(([category]) => category));
  const uncounted = exposure.categories.filter((category) => !seen.has(category));
  const parts = [
    ...counted.map(([category, n]) => `${category} ${formatCount(n)}`),
    ...uncounted.map((category) => category),
  ];
  const shown = parts.slice(0, maxCategoriesShown);
  const more = parts.length - shown.length;
  const kinds =
    parts.length === 0
      ? 'no personal or secret data found'
      : `${shown.join(', ')}${more > 0 ? ` and ${more} more categories` : ''}`;
  const people = exposure.subjects.total;
  const size: string[] = [];
  if (exposure.records !== undefined) size.push(`${formatCount(exposure.records)} records`);
  if (exposure.collections !== undefined) size.push(`${formatCount(exposure.collections)} collections`);
  const sizeText = size.length > 0 ? `; ${size.join(' in ')}` : '';
  return `${formatCount(people)} ${people === 1 ? 'person' : 'people'}: ${kinds}${sizeText} (classified ${formatTime(exposure.classifiedAt)})`;
}

/** What a re-classification found new, in one line. */
export function describeChanges(event: WatchEvent): string | undefined {
  const changes = event.changes;
  if (!changes) return undefined;
  const parts: string[] = [];
  if (changes.collections?.length) parts.push(`new collections ${listNames(changes.collections)}`);
  if (changes.fields?.length) parts.push(`new fields ${listNames(changes.fields)}`);
  if (changes.categories?.length) parts.push(`new categories ${changes.categories.join(', ')}`);
  if (changes.recordsBefore !== undefined && changes.recordsAfter !== undefined) {
    parts.push(`records ${formatCount(changes.recordsBefore)} → ${formatCount(changes.recordsAfter)}`);
  }
  return parts.length > 0 ? parts.join('; ') : undefined;
}

function headline(event: WatchEvent): string {
  const store = storeLabel(event);
  const changes = event.changes;
  switch (event.kind) {
    case 'opened':
      return `OPEN: ${store} ${stateWords.open} since ${formatTime(event.window?.openedAt ?? event.at)}`;
    case 'first-seen':
      return event.toState === 'open'
        ? `OPEN: ${store} ${stateWords.open} since ${formatTime(event.window?.openedAt ?? event.at)}`
        : `FIRST SEEN: ${store} ${stateWords[event.toState]}`;
    case 'closed':
      return event.window
        ? `CLOSED: ${store} requires credentials again after ${formatDuration(event.window.durationMs)} open`
        : `CLOSED: ${store} requires credentials again`;
    case 'unreachable':
      return `UNREACHABLE: ${store} does not answer${event.fromState === 'open' ? ' (it was open)' : ''}`;
    case 'recovered':
      return `RECOVERED: ${store} answers again and ${stateWords[event.toState]}`;
    case 'new-collections': {
      const n = changes?.collections?.length ?? 0;
      return `NEW COLLECTIONS: ${store} exposes ${formatCount(n)} new collection${n === 1 ? '' : 's'}`;
    }
    case 'new-fields': {
      const n = changes?.fields?.length ?? 0;
      const categories = changes?.categories?.length ? ` (${changes.categories.join(', ')})` : '';
      return `NEW FIELDS: ${store} exposes ${formatCount(n)} new field${n === 1 ? '' : 's'}${categories}`;
    }
    case 'size-jump':
      return changes?.recordsBefore !== undefined && changes.recordsAfter !== undefined
        ? `SIZE JUMP: ${store} went from ${formatCount(changes.recordsBefore)} to ${formatCount(changes.recordsAfter)} records`
        : `SIZE JUMP: ${store} changed size`;
    case 'ransom-note':
      return `RANSOM NOTE: ${store} holds what looks like a ransom note`;
  }
}

/** The subject line and body lines of an alert; every value from a target passes `sanitizeText`. */
export function describeEvent(event: WatchEvent): EventDescription {
  const lines: string[] = [];
  const store = event.store;
  const about: string[] = [];
  if (store.owner !== undefined) about.push(`owner ${sanitizeText(store.owner, 120)}`);
  if (store.tags.length > 0) about.push(`tags ${listNames(store.tags)}`);
  lines.push(`Store: ${sanitizeText(store.name, 120)}${about.length > 0 ? ` (${about.join('; ')})` : ''}`);
  lines.push(`Target: ${sanitizeText(store.target, 200)} (${sanitizeText(store.protocol, 40)})`);
  lines.push(`State: ${describeStateChange(event)}, probed ${formatTime(event.at)}`);
  const window = describeWindow(event);
  if (window !== undefined) lines.push(`Since: ${window}`);
  const exposure = describeExposure(event.exposure);
  if (exposure !== undefined) lines.push(`Exposes: ${exposure}`);
  const changes = describeChanges(event);
  if (changes !== undefined) lines.push(`Changes: ${changes}`);
  if (event.detail !== '') lines.push(`Detail: ${sanitizeText(event.detail, 500)}`);
  lines.push(`Event: ${sanitizeText(event.id, 120)} (${event.kind})`);
  return { subject: `[leakwatch] ${headline(event)}`, lines };
}
