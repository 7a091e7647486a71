import { describe, expect, it } from 'vitest';
import type { ProbeResult } from '../connectors/connector.js';
import { assessIndicators, type CandidateResult } from './assess-indicators.js';

function open(records: number, names: string[], extra: Partial<ProbeResult> = {}): CandidateResult {
  return {
    protocol: 'elasticsearch',
    result: {
      status: 'open',
      detail: 'readable',
      size: { collections: names.length, records },
      collections: names.map((name) => ({ name, records: 0 })),
      ...extra,
    },
  };
}

const refused: ProbeResult = { status: 'unreachable', detail: 'refused' };

describe('assessIndicators: ransom-note', () => {
  it('flags wiped stores named like a note, case-insensitive and by whole words', () => {
    for (const name of [
      'x7f3kq9a2b-meow',
      'ab12cdmeow',
      'READ_ME',
      'readme',
      'READ_ME_TO_RECOVER_YOUR_DATA',
      'how_to_recover',
      'WARNING',
      'please_read',
      'Restore',
      'PleaseRead',
    ]) {
      const { indicators, reasons } = assessIndicators({ chosen: open(1, ['logs', name]), others: [] });
      expect(indicators, name).toContain('ransom-note');
      expect(reasons.join()).toContain('ransom note: wiped store with a collection named');
    }
  });

  it('does not flag a store in use, or words inside other words', () => {
    expect(assessIndicators({ chosen: open(5000, ['READ_ME']), others: [] }).indicators).not.toContain(
      'ransom-note',
    );
    for (const name of [
      'readings',
      'recovery_codes',
      'warnings_log',
      'restored_at',
      'homeowners',
      'thread_me',
    ])
      expect(assessIndicators({ chosen: open(1, [name]), others: [] }).indicators, name).not.toContain(
        'ransom-note',
      );
  });

  it('uses per-collection counts when the total is unknown, and no names otherwise', () => {
    const counted: CandidateResult = {
      protocol: 'redis',
      result: { status: 'open', detail: '', collections: [{ name: 'README', records: 1 }] },
    };
    expect(assessIndicators({ chosen: counted, others: [] }).indicators).toEqual(['ransom-note']);
    const uncounted: CandidateResult = {
      protocol: 'redis',
      result: { status: 'open', detail: '', collections: [{ name: 'README' }] },
    };
    expect(assessIndicators({ chosen: uncounted, others: [] }).indicators).toEqual([]);
  });

  it('reads the names of the collections sampling read (Redis key families)', () => {
    const redis: CandidateResult = {
      protocol: 'redis',
      result: {
        status: 'open',
        detail: '',
        size: { records: 1 },
        collections: [{ name: 'db0', records: 1 }],
      },
    };
    expect(
      assessIndicators({ chosen: redis, others: [], recordsSeen: { 'how_to_recover:*': 1 } }).indicators,
    ).toEqual(['ransom-note']);
  });

  it('flags a note read in the records whatever the size, only on an open store', () => {
    const big = open(5000, ['users']);
    expect(assessIndicators({ chosen: big, others: [], ransomNoteSeen: true })).toEqual({
      indicators: ['ransom-note'],
      reasons: ['ransom note: a sampled record asks for bitcoin'],
    });
    const locked: CandidateResult = { protocol: 'redis', result: { status: 'auth-required', detail: '' } };
    expect(assessIndicators({ chosen: locked, others: [], ransomNoteSeen: true }).indicators).toEqual([]);
  });

  it('keeps what the connector already concluded', () => {
    const mongo = open(3, ['db'], { indicators: ['ransom-note'] });
    expect(assessIndicators({ chosen: mongo, others: [] }).indicators).toEqual(['ransom-note']);
  });
});

describe('assessIndicators: honeypot-suspected', () => {
  it('flags different protocols identified on one port', () => {
    const chosen: CandidateResult = {
      protocol: 'redis',
      result: { status: 'open', detail: 'redis answers', size: { records: 4 } },
    };
    const others: CandidateResult[] = [
      {
        protocol: 'mysql',
        result: { status: 'error', detail: 'x', server: { product: 'mysql', version: '5.7' } },
      },
      { protocol: 'http', result: { status: 'other-protocol', detail: 'x', server: { product: 'nginx' } } },
      { protocol: 'postgres', result: refused },
    ];
    const { indicators, reasons } = assessIndicators({ chosen, others });
    expect(indicators).toEqual(['honeypot-suspected']);
    expect(reasons).toEqual(['honeypot suspected: answers as redis, mysql and http']);
  });

  it('does not count HTTP-based protocols on one HTTP server as a contradiction', () => {
    const chosen = open(10, ['users']);
    const others: CandidateResult[] = [
      { protocol: 'http', result: { status: 'open', detail: '', server: { product: 'elasticsearch' } } },
      { protocol: 'kibana', result: { status: 'other-protocol', detail: '', server: { product: 'x' } } },
      { protocol: 'redis', result: { status: 'other-protocol', detail: 'speaks something else' } },
      { protocol: 'mysql', result: refused },
    ];
    expect(assessIndicators({ chosen, others }).indicators).toEqual([]);
  });

  it("does not count a server's own notice to stray HTTP (mongod's) as a second protocol", () => {
    const chosen: CandidateResult = {
      protocol: 'mongodb',
      result: { status: 'auth-required', detail: '', server: { product: 'mongodb', version: '7.0' } },
    };
    const notice: CandidateResult = {
      protocol: 'http',
      result: { status: 'other-protocol', detail: 'no data', server: { product: 'http' } },
    };
    expect(assessIndicators({ chosen, others: [notice] }).indicators).toEqual([]);
    const apache: CandidateResult = {
      protocol: 'http',
      result: { status: 'other-protocol', detail: 'no data', server: { product: 'apache', version: '2.4' } },
    };
    expect(assessIndicators({ chosen, others: [apache] }).indicators).toEqual(['honeypot-suspected']);
  });

  it('flags honeypot products in the banner, as whole words', () => {
    for (const product of [
      'Cowrie SSH',
      'opencanary',
      'T-Pot',
      'elastichoney 1.0',
      'redis (RedisHoneyPot)',
    ]) {
      const chosen = open(10, ['users'], { server: { product } });
      expect(assessIndicators({ chosen, others: [] }).reasons.join(), product).toMatch(/banner names /);
    }
    const chosen = open(10, ['users'], { server: { product: 'redis', version: 'dionaea-build' } });
    expect(assessIndicators({ chosen, others: [] }).indicators).toEqual(['honeypot-suspected']);
    const plain = open(10, ['users'], { server: { product: 'honeypotato-db', version: '7.1' } });
    expect(assessIndicators({ chosen: plain, others: [] }).indicators).toEqual([]);
  });

  it('flags a store that reports no records but gave records to read', () => {
    const { indicators, reasons } = assessIndicators({
      chosen: open(0, ['users']),
      others: [],
      recordsSeen: { users: 3 },
    });
    expect(indicators).toEqual(['honeypot-suspected']);
    expect(reasons).toEqual(['honeypot suspected: reports 0 records but 3 were read']);
  });
});

describe('assessIndicators: empty', () => {
  it('is set for an open store with no records and nothing read', () => {
    expect(assessIndicators({ chosen: open(0, []), others: [], recordsSeen: {} })).toEqual({
      indicators: ['empty'],
      reasons: [],
    });
    expect(assessIndicators({ chosen: open(3, ['a']), others: [] }).indicators).toEqual([]);
  });

  it("keeps the connector's own empty", () => {
    const chosen: CandidateResult = {
      protocol: 'kafka',
      result: { status: 'open', detail: '', indicators: ['empty'] },
    };
    expect(assessIndicators({ chosen, others: [] }).indicators).toEqual(['empty']);
  });
});
