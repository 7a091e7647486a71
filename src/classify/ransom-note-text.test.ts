import { describe, expect, it } from 'vitest';
import type { RecordSink, RecordTextFormat } from '../connectors/connector.js';
import { looksLikeRansomNote, watchForRansomNotes } from './ransom-note-text.js';

// A documentation-style address (the "Boat" vanity address used in Bitcoin examples).
const address = '1BoatSLRHtKNngkdXEeobR76b53LETtpyT';
const note = `All your data is backed up. Send 0.05 BTC to ${address} to recover`;

class RecordingSink implements RecordSink {
  readonly limit = 10;
  readonly signal = new AbortController().signal;
  readonly records: [string, unknown][] = [];
  readonly texts: [string, string, RecordTextFormat][] = [];
  add(collection: string, record: unknown): void {
    this.records.push([collection, record]);
  }
  addText(collection: string, text: string, format: RecordTextFormat): void {
    this.texts.push([collection, text, format]);
  }
}

describe('looksLikeRansomNote', () => {
  it('needs a Bitcoin address and ransom words together', () => {
    expect(looksLikeRansomNote(note)).toBe(true);
    expect(
      looksLikeRansomNote('To restore your database pay to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq'),
    ).toBe(true);
    expect(looksLikeRansomNote(`tip jar: ${address}`)).toBe(false);
    expect(looksLikeRansomNote('please pay to recover your data')).toBe(false);
    // An address-like run inside a longer token is not an address.
    expect(looksLikeRansomNote(`pay to x${address}x`)).toBe(false);
  });

  it('reads only the first 4 KB of a string', () => {
    expect(looksLikeRansomNote(`${'a '.repeat(3000)}${note}`)).toBe(false);
  });
});

describe('watchForRansomNotes', () => {
  it('passes records through unchanged and flags a note in a nested string', () => {
    const sink = new RecordingSink();
    const watch = watchForRansomNotes(sink);
    expect(watch.limit).toBe(10);
    expect(watch.signal).toBe(sink.signal);
    const plain = { name: 'Ada', tags: ['x', 1, null] };
    watch.add('users', plain);
    expect(watch.ransomNoteSeen()).toBe(false);
    const wiped = { msg: { lines: [note] } };
    watch.add('README', wiped);
    watch.addText('file', 'a,b\n1,2\n', 'csv');
    expect(watch.ransomNoteSeen()).toBe(true);
    expect(sink.records).toEqual([
      ['users', plain],
      ['README', wiped],
    ]);
    expect(sink.records[1]?.[1]).toBe(wiped);
    expect(sink.texts).toEqual([['file', 'a,b\n1,2\n', 'csv']]);
  });

  it('sees a note in a whole text document', () => {
    const watch = watchForRansomNotes(new RecordingSink());
    watch.addText('dump.json', JSON.stringify({ note }), 'json');
    expect(watch.ransomNoteSeen()).toBe(true);
  });

  it('stops looking at a collection after its string budget', () => {
    const watch = watchForRansomNotes(new RecordingSink());
    for (let i = 0; i < 1000; i++) watch.add('logs', 'nothing here');
    watch.add('logs', note);
    expect(watch.ransomNoteSeen()).toBe(false);
    watch.add('other', note);
    expect(watch.ransomNoteSeen()).toBe(true);
  });

  it('stays fast on adversarial input (linear-time patterns, bounded walk)', () => {
    const watch = watchForRansomNotes(new RecordingSink());
    const base58Run = '1'.repeat(1_000_000);
    const almost = '1BoatSLRHtKNngkdXEeobR76b53LETtp'.repeat(200);
    const bech = `bc1${'q'.repeat(1_000_000)}`;
    const words = `your ${' '.repeat(100_000)}data pay `.repeat(10);
    let deep: unknown = note;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    const wide = Array.from({ length: 100_000 }, () => 'pay bitcoin 1111');
    const started = performance.now();
    for (const value of [base58Run, almost, bech, words, deep, wide, `pay ${base58Run}`])
      watch.add('c', value);
    expect(performance.now() - started).toBeLessThan(500);
    // The note nested 10,000 arrays deep is beyond the walk's depth bound.
    expect(watch.ransomNoteSeen()).toBe(false);
  });
});
