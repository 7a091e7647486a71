import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeContext, RecordSink } from '../../src/connectors/connector.js';
import { redisConnector } from '../../src/connectors/redis.js';
import { decodeResp, encodeCommand, readRespFrame, RespError } from '../../src/connectors/resp.js';
import { TcpSession } from '../../src/connectors/tcp-session.js';
import { runScan } from '../../src/scan/run-scan.js';
import { startRedis, type PrivateRedis } from '../servers/redis-server.js';
import { CollectingSink, probeContext } from '../collecting-sink.js';
import { commandsSeenDuring } from '../servers/redis-monitor.js';

function context(sampler: RecordSink): ProbeContext {
  return probeContext(sampler);
}

/** Seeds through one pipelined connection: hundreds of redis-cli processes would be slow. */
async function seed(port: number, commands: string[][]): Promise<void> {
  const session = await TcpSession.open({
    host: '127.0.0.1',
    port,
    signal: AbortSignal.timeout(10_000),
    maxBytes: 64 << 20,
  });
  try {
    let send: string | undefined = commands.map((c) => encodeCommand(...c)).join('');
    for (let i = 0; i < commands.length; i++) {
      const reply = decodeResp(await session.request(send, readRespFrame))?.[0];
      send = undefined;
      if (reply instanceof RespError) throw new Error(`seeding failed: ${reply.message}`);
    }
  } finally {
    session.close();
  }
}

// The read-only commands sampling may send (DESIGN.md invariant 1).
const allowedCommands = new Set([
  'auth',
  'ping',
  'info',
  'select',
  'scan',
  'type',
  'strlen',
  'get',
  'hlen',
  'hscan',
  'hgetall',
  'lrange',
  'sscan',
  'zrange',
  'xrange',
]);

const profiles = Array.from({ length: 300 }, (_, i) =>
  JSON.stringify({ email: `profile${i + 1}@example.test`, name: `Person ${i + 1}` }),
);
const sessionKeys = Array.from({ length: 120 }, () => `session:${randomBytes(8).toString('hex')}`);
const sessionTokens = sessionKeys.map(() => `tok-${randomBytes(12).toString('hex')}`);
const hashEmails = Array.from({ length: 80 }, (_, i) => `hash${i + 1}@example.test`);
const queued = Array.from({ length: 150 }, (_, i) => `queued${i}@example.test`);
const tags = ['alpha', 'beta', 'gamma', 'delta'];
// Over 1,000 fields, so read by one HSCAN page; numeric field names collapse to `#*`.
const activeTokens = Array.from({ length: 1_500 }, (_, i) => `active-${i}-${randomBytes(6).toString('hex')}`);
const db2Profiles = Array.from({ length: 60 }, (_, i) => JSON.stringify({ email: `db2-${i}@example.test` }));

describe('redis sampling for classification against Debian redis-server 7.0', () => {
  let redis: PrivateRedis;

  beforeAll(async () => {
    redis = await startRedis();
    await seed(redis.port, [
      ['MSET', ...profiles.flatMap((p, i) => [`user:${i + 1}:profile`, p])],
      ['MSET', ...sessionKeys.flatMap((k, i) => [k, sessionTokens[i] ?? ''])],
      ...hashEmails.map((email, i) => ['HSET', `user:${i + 1}`, 'email', email, 'plan', 'pro']),
      ['RPUSH', 'queue:emails', ...queued],
      ['SADD', 'tags:all', ...tags],
      ['HSET', 'sessions:active', ...activeTokens.flatMap((t, i) => [String(1_000 + i), t])],
      ['ZADD', 'leaderboard', '10', 'ann', '20', 'bob', '5', 'cy'],
      ['XADD', 'events:signup', '*', 'email', 'stream1@example.test', 'plan', 'free'],
      ['XADD', 'events:signup', '*', 'email', 'stream2@example.test', 'plan', 'pro'],
      // A 2 MB string: over the 1 MB cap, so never read.
      ['SETRANGE', 'blob:big', String(2 * 1024 * 1024), 'x'],
      ['SELECT', '2'],
      ['MSET', ...db2Profiles.flatMap((p, i) => [`user:${i + 1}:profile`, p])],
    ]);
  });

  afterAll(async () => {
    await redis.stop();
  });

  const target = (): Parameters<typeof redisConnector.probe>[0] => ({
    protocol: 'redis',
    host: '127.0.0.1',
    port: redis.port,
  });

  it('reads at most `limit` keys per family, with typed reads and paths of the key-family grammar', async () => {
    const sink = new CollectingSink(50);
    const result = await redisConnector.probe(target(), context(sink));
    expect(result.status).toBe('open');
    expect([...sink.records.keys()].sort()).toEqual([
      'db0/events:signup',
      'db0/leaderboard',
      'db0/queue:emails',
      'db0/session:*',
      'db0/sessions:active',
      'db0/tags:all',
      'db0/user:*',
      'db0/user:*:profile',
      'db2/user:*:profile',
    ]);
    const profileValues = sink.values('db0/user:*:profile', 'user:*:profile');
    expect(profileValues).toHaveLength(50);
    expect(new Set(profileValues).size).toBe(50);
    for (const value of profileValues) expect(profiles).toContain(value);
    expect(sink.values('db0/session:*', 'session:*')).toHaveLength(50);
    const hashes = sink.records.get('db0/user:*') ?? [];
    expect(hashes).toHaveLength(50);
    for (const record of hashes) {
      expect(Object.keys(record as object).sort()).toEqual(['user:*#email', 'user:*#plan']);
      expect(hashEmails).toContain((record as Record<string, unknown>)['user:*#email']);
    }
    // LRANGE 0 99: the first 100 of 150 elements, in order.
    expect(sink.records.get('db0/queue:emails')).toEqual([{ 'queue:emails': queued.slice(0, 100) }]);
    expect((sink.values('db0/tags:all', 'tags:all')[0] as string[]).sort()).toEqual([...tags].sort());
    const [active] = sink.records.get('db0/sessions:active') ?? [];
    expect(Object.keys(active as object)).toEqual(['sessions:active#*']);
    const pageOfTokens = (active as Record<string, string[]>)['sessions:active#*'] ?? [];
    // HSCAN's COUNT is a hint: about one page of 1,000, never the whole 1,500.
    expect(pageOfTokens.length).toBeGreaterThanOrEqual(900);
    expect(pageOfTokens.length).toBeLessThan(1_500);
    for (const token of pageOfTokens) expect(activeTokens).toContain(token);
    expect(sink.records.get('db0/leaderboard')).toEqual([
      {
        leaderboard: [
          { member: 'cy', score: 5 },
          { member: 'ann', score: 10 },
          { member: 'bob', score: 20 },
        ],
      },
    ]);
    const [stream] = sink.records.get('db0/events:signup') ?? [];
    expect(JSON.parse(JSON.stringify(stream))).toEqual({
      'events:signup': [
        { email: 'stream1@example.test', plan: 'free' },
        { email: 'stream2@example.test', plan: 'pro' },
      ],
    });
    expect(sink.values('db2/user:*:profile', 'user:*:profile')).toHaveLength(50);
    expect(result.detail).toContain('sampled 205 keys in 9 families');
    expect(result.detail).toContain('1 skipped');
    // Counts only: no seeded value reaches the detail.
    expect(result.detail).not.toMatch(/example\.test|tok-/);
  });

  it('reads every key with limit Infinity (--full)', async () => {
    const sink = new CollectingSink(Infinity);
    const result = await redisConnector.probe(target(), context(sink));
    expect(result.status).toBe('open');
    expect(new Set(sink.values('db0/user:*:profile', 'user:*:profile'))).toEqual(new Set(profiles));
    expect(new Set(sink.values('db0/session:*', 'session:*'))).toEqual(new Set(sessionTokens));
    expect(new Set(sink.values('db0/user:*', 'user:*#email'))).toEqual(new Set(hashEmails));
    expect(new Set(sink.values('db2/user:*:profile', 'user:*:profile'))).toEqual(new Set(db2Profiles));
    expect(sink.records.has('db0/blob:big')).toBe(false);
    expect(result.detail).toContain(`sampled ${300 + 120 + 80 + 5 + 60} keys in 9 families`);
  });

  it('sends only read-only commands while sampling: SCAN, never KEYS', async () => {
    const commands = await commandsSeenDuring(redis, () =>
      redisConnector.probe(target(), context(new CollectingSink(Infinity))),
    );
    expect(commands).toContain('scan');
    expect(commands).toContain('type');
    expect(commands).toContain('hgetall');
    expect(commands).toContain('hscan');
    expect(commands).toContain('strlen');
    expect(commands.filter((c) => !allowedCommands.has(c))).toEqual([]);
  });

  it("is not cut by the probe deadline: sampling runs on the sampler's own signal", async () => {
    const probeDeadline = new AbortController();
    // The probe's deadline passes while the first record is handed over, mid-sampling.
    const sink = new (class extends CollectingSink {
      override add(collection: string, record: unknown): void {
        probeDeadline.abort();
        super.add(collection, record);
      }
    })(Infinity);
    const result = await redisConnector.probe(target(), { ...context(sink), signal: probeDeadline.signal });
    expect(probeDeadline.signal.aborted).toBe(true);
    expect(result.status).toBe('open');
    expect(sink.values('db0/user:*:profile', 'user:*:profile')).toHaveLength(300);
    expect(sink.values('db2/user:*:profile', 'user:*:profile')).toHaveLength(60);
  });

  it('feeds a scan with --sample: fields is an array and no seeded value is in the report', async () => {
    const report = await runScan({
      targets: [`redis://127.0.0.1:${redis.port}`],
      timeoutMs: 5_000,
      sample: { limit: 100, timeoutMs: 10_000 },
    });
    const [entry] = report.targets;
    expect(entry?.status).toBe('open');
    expect(Array.isArray(entry?.fields)).toBe(true);
    expect(entry?.detail).toMatch(/sampled \d+ keys in 9 families/);
    const text = JSON.stringify(report);
    for (const secret of [
      ...profiles.slice(0, 5),
      ...hashEmails.slice(0, 5),
      ...sessionTokens.slice(0, 5),
      queued[0] ?? '',
      activeTokens[0] ?? '',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toContain('example.test');
  });
});

describe('redis sampling past the byte cap', () => {
  let redis: PrivateRedis;

  beforeAll(async () => {
    redis = await startRedis();
    const big = 'v'.repeat(40_000);
    await seed(redis.port, [
      ['SELECT', '5'],
      // HLEN is small, so HGETALL is sent; its 120 kB answer is over a 64 kB cap.
      ['HSET', 'bighash', 'a', big, 'b', big, 'c', big],
      ['RPUSH', 'biglist', big, big],
      ...Array.from({ length: 5 }, (_, i) => ['SET', `after:${i}`, JSON.stringify({ n: i })]),
    ]);
  });

  afterAll(async () => {
    await redis.stop();
  });

  it('skips a reply over the cap, reconnects, and reads the rest', async () => {
    const sink = new CollectingSink(Infinity);
    const result = await redisConnector.probe(
      { protocol: 'redis', host: '127.0.0.1', port: redis.port },
      { ...context(sink), maxBytes: 64 * 1024 },
    );
    expect(result.status).toBe('open');
    expect(sink.records.has('db5/bighash')).toBe(false);
    expect(sink.records.has('db5/biglist')).toBe(false);
    expect(sink.values('db5/after:*', 'after:*')).toHaveLength(5);
    expect(result.detail).toContain('sampled 5 keys in 1 family (2 skipped');
  });
});
