import type { Protocol } from '../core/protocol.js';
import { sanitizeText } from '../core/redact.js';
import type { Indicator, ServerInfo } from '../core/scan-report.js';
import type { ProbeResult } from '../connectors/connector.js';
import { splitFieldWords } from '../detectors/split-field-words.js';

/** One candidate protocol's verdict on the endpoint. */
export interface CandidateResult {
  protocol: Protocol | 'unknown';
  result: ProbeResult;
}

export interface IndicatorInput {
  /** The verdict reported for the endpoint. */
  chosen: CandidateResult;
  /** The other candidates' verdicts on the same port (a bare `host:port`); empty otherwise. */
  others: readonly CandidateResult[];
  /** Records classified per collection (the classification's `recordsSeen`), when sampled. */
  recordsSeen?: Readonly<Record<string, number>>;
  /** A sampled string read like a ransom demand (`watchForRansomNotes`). */
  ransomNoteSeen?: boolean;
}

export interface IndicatorAssessment {
  indicators: Indicator[];
  /** One line per indicator set here, for the target's detail. Names only, never values. */
  reasons: string[];
}

/** A wiped store keeps the note and little else; more than this is a store in use. */
const wipedMaxRecords = 10;

// Whole words (after splitFieldWords) and word pairs that ransom bots give the note they leave:
// READ_ME, README, READ_ME_TO_RECOVER_YOUR_DATA, how_to_recover, WARNING, please_read, restore.
const ransomWords = new Set(['readme', 'recover', 'restore', 'warning']);
const ransomPairs = [
  ['read', 'me'],
  ['please', 'read'],
];

// Products built as honeypots, as they name themselves in banners.
const honeypotBanner =
  /(?:^|[^a-z0-9])(honeypot|opencanary|dionaea|conpot|cowrie|t-?pot|elastichoney|honeymongo|redishoneypot)(?![a-z0-9])/;

// Protocols that ride on HTTP (or have an HTTP monitoring/management side that their connector
// reads): one HTTP server answering several of them is one protocol, not a contradiction.
const httpFamily = new Set<string>([
  'http',
  'https',
  'elasticsearch',
  'couchdb',
  's3',
  'kibana',
  'nats',
  'amqp',
]);

/** The name of a wiped store's ransom note: a `…meow` name (the 2020 Meow bot) or README-style words. */
function isRansomName(name: string): boolean {
  // Meow renamed what it wiped to `<random>-meow` or `<random>meow`.
  if (name.toLowerCase().endsWith('meow')) return true;
  const words = splitFieldWords(name);
  if (words.some((w) => ransomWords.has(w) || w === 'meow')) return true;
  return words.some((w, i) => ransomPairs.some(([a, b]) => w === a && words[i + 1] === b));
}

// An answer that identified the server on the port (run-scan's "identified" ranks).
function identified(result: ProbeResult): boolean {
  return result.status === 'open' || result.status === 'auth-required' || result.server !== undefined;
}

// Some servers answer a stray HTTP request on their own port with a bare notice (mongod: "It looks
// like you are trying to access MongoDB over HTTP on the native driver port", no Server header).
// Such an answer says the port speaks HTTP a little, not that it is a second server: an HTTP-based
// answer counts as a second voice only when it gave access, asked for credentials or named a product.
function speaksAs(candidate: CandidateResult): boolean {
  const { result } = candidate;
  if (!identified(result)) return false;
  if (!httpFamily.has(candidate.protocol)) return true;
  return result.status === 'open' || result.status === 'auth-required' || result.server?.product !== 'http';
}

function listNames(names: readonly string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1] ?? ''}`;
}

function bannerText(server: ServerInfo): string {
  return `${server.product} ${server.version ?? ''}`.toLowerCase();
}

/**
 * Indicators of a store that is not what it seems: wiped by a ransom bot (`ransom-note`), a
 * honeypot (`honeypot-suspected`), or a fresh instance (`empty`). Pure: it reads the verdicts and
 * counts the scan already has, never the target.
 */
export function assessIndicators(input: IndicatorInput): IndicatorAssessment {
  const { result } = input.chosen;
  const found = new Set<Indicator>(result.indicators ?? []);
  const reasons: string[] = [];
  const seen = Object.values(input.recordsSeen ?? {}).reduce((a, b) => a + b, 0);
  const records = result.size?.records;
  const open = result.status === 'open';

  // ransom-note: a wiped store named like a note, or a note read among the records.
  if (open) {
    const knownCounts = (result.collections ?? []).map((c) => c.records);
    const few =
      records !== undefined
        ? records <= wipedMaxRecords
        : knownCounts.length > 0 &&
          knownCounts.every((n) => n !== undefined) &&
          knownCounts.reduce((a, b) => a + b, 0) <= wipedMaxRecords;
    // Collections the connector listed, and those sampling read (Redis key families, say).
    const names = [...(result.collections ?? []).map((c) => c.name), ...Object.keys(input.recordsSeen ?? {})];
    const noteName = few ? names.find(isRansomName) : undefined;
    if (noteName !== undefined) {
      found.add('ransom-note');
      reasons.push(`ransom note: wiped store with a collection named ${sanitizeText(noteName, 60)}`);
    }
    if (input.ransomNoteSeen === true) {
      found.add('ransom-note');
      reasons.push('ransom note: a sampled record asks for bitcoin');
    }
  }

  // honeypot-suspected: contradictory answers or a honeypot's own banner.
  const honeypot: string[] = [];
  const all = [input.chosen, ...input.others];
  const speaking = all.filter(speaksAs);
  const families = new Map<string, string>();
  for (const c of speaking) {
    const family = httpFamily.has(c.protocol) ? 'http' : c.protocol;
    if (!families.has(family)) families.set(family, family === 'http' ? 'http' : c.protocol);
  }
  if (families.size >= 2) honeypot.push(`answers as ${listNames([...families.values()])}`);
  for (const c of speaking) {
    const match = c.result.server ? honeypotBanner.exec(bannerText(c.result.server)) : null;
    if (match?.[1] !== undefined) {
      honeypot.push(`banner names ${match[1]}`);
      break;
    }
  }
  if (open && records === 0 && seen > 0) honeypot.push(`reports 0 records but ${seen} were read`);
  if (honeypot.length > 0) {
    found.add('honeypot-suspected');
    reasons.push(`honeypot suspected: ${honeypot.join(', ')}`);
  }

  // empty: a fresh instance, by its own count and by what sampling read.
  if (open && records === 0 && seen === 0) found.add('empty');

  const order: Indicator[] = ['ransom-note', 'honeypot-suspected', 'empty'];
  return { indicators: order.filter((i) => found.has(i)), reasons };
}
