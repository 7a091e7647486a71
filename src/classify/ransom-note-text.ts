import type { RecordSink, RecordTextFormat } from '../connectors/connector.js';

/** Characters of one string looked at: a ransom note is short and says its piece up front. */
const scannedChars = 4096;
/** Strings looked at per collection: a note is one record, not a pattern across thousands. */
const maxStringsPerCollection = 1000;
/** Collections tracked; a store with more (Redis key families) stops being watched for new ones. */
const maxCollections = 10_000;
/** Values walked inside one record, so a huge or deep document costs a bounded amount. */
const maxNodesPerRecord = 2000;
const maxDepth = 16;

// Every pattern below is linear in the scanned text: bounded quantifiers on a single character
// class and fixed-word alternations, no nested or adjacent unbounded repetition.
// Base58Check P2PKH/P2SH addresses (https://en.bitcoin.it/wiki/Base58Check_encoding): 1 or 3,
// then 25 to 34 base58 characters (no 0, O, I, l).
const base58Address = /(?<![0-9A-Za-z])[13][1-9A-HJ-NP-Za-km-z]{25,34}(?![0-9A-Za-z])/;
// Bech32 segwit addresses (BIP-173): `bc1`, then the bech32 charset (no 1, b, i, o), one case.
const bech32Address =
  /(?<![0-9A-Za-z])(?:bc1[02-9ac-hj-np-z]{11,71}|BC1[02-9AC-HJ-NP-Z]{11,71})(?![0-9A-Za-z])/;
const ransomWords =
  /\b(?:bitcoins?|btc|recover|restore|backup|pay|payment|decrypt|database|your {1,3}data)\b/i;

/** True when `text` (its first 4 KB) holds a Bitcoin address and words of a ransom demand. */
export function looksLikeRansomNote(text: string): boolean {
  const head = text.length > scannedChars ? text.slice(0, scannedChars) : text;
  return (base58Address.test(head) || bech32Address.test(head)) && ransomWords.test(head);
}

export type RansomNoteWatch = RecordSink & {
  /** True once a sampled string read like a ransom demand (an address to pay and why). */
  ransomNoteSeen(): boolean;
};

/**
 * Passes every record on to `sink` unchanged and watches its strings for a ransom note: the one
 * record a wiping bot leaves behind. Lives in classify/ because only here may raw values be read;
 * nothing of the value is kept, only the yes/no.
 */
export function watchForRansomNotes(sink: RecordSink): RansomNoteWatch {
  const scanned = new Map<string, number>();
  let seen = false;

  // How many more strings of `collection` may be looked at; 0 once a note was seen (no need).
  const budget = (collection: string): number => {
    if (seen) return 0;
    const used = scanned.get(collection);
    if (used === undefined && scanned.size >= maxCollections) return 0;
    return maxStringsPerCollection - (used ?? 0);
  };
  const scan = (collection: string, text: string): void => {
    scanned.set(collection, (scanned.get(collection) ?? 0) + 1);
    if (looksLikeRansomNote(text)) seen = true;
  };
  const scanRecord = (collection: string, record: unknown): void => {
    const stack: { value: unknown; depth: number }[] = [{ value: record, depth: 0 }];
    let nodes = 0;
    while (stack.length > 0 && nodes++ < maxNodesPerRecord) {
      if (budget(collection) <= 0) return;
      const { value, depth } = stack.pop() as { value: unknown; depth: number };
      if (typeof value === 'string') {
        scan(collection, value);
      } else if (typeof value === 'object' && value !== null && depth < maxDepth) {
        // Only plain containers: a Buffer or Date holds no text worth reading here.
        const children = Array.isArray(value)
          ? value
          : Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null
            ? Object.values(value)
            : [];
        for (let i = children.length - 1; i >= 0 && stack.length < maxNodesPerRecord; i--)
          stack.push({ value: children[i], depth: depth + 1 });
      }
    }
  };

  return {
    get limit() {
      return sink.limit;
    },
    get signal() {
      return sink.signal;
    },
    add(collection: string, record: unknown): void {
      scanRecord(collection, record);
      sink.add(collection, record);
    },
    addText(collection: string, text: string, format: RecordTextFormat): void {
      if (budget(collection) > 0) scan(collection, text);
      sink.addText(collection, text, format);
    },
    ransomNoteSeen: () => seen,
  };
}
