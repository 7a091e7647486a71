/**
 * Benchmark (not a test): a notification campaign of issue 5 on the embedded (PGlite) store.
 *
 *   npm run bench:notify [-- --people 2400000 --messages 20000 | --quick]
 *
 * 1. Outbox: 2.4 million affected people are written first (not timed), then `prepareOutbox` is
 *    timed (goal <= 60 s). Baseline of the same run: a bare INSERT … SELECT generate_series of as
 *    many rows into a table shaped like the outbox (same columns, identity and indexes; no join, no FK).
 * 2. Delivery: `runCampaign` to a local SMTP sink (smtp-server on 127.0.0.1, headers kept only),
 *    messages/s. Baseline: the same letters sent with nodemailer's pooled transport alone (same
 *    pool size and concurrency), no outbox.
 * Everything listens on, and is contacted at, 127.0.0.1 only.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { loadIncident } from '../src/incident/incident-store.js';
import { NotificationComposer } from '../src/incident/notification-message.js';
import { prepareOutbox } from '../src/incident/notification-outbox.js';
import { createNotificationSender } from '../src/incident/notification-sender.js';
import { campaignDefaults, runCampaign } from '../src/incident/notify.js';
import { parseStoreLocation, Store } from '../src/store/store.js';
import { completeFacts, personEmail, seedNotifyIncident } from '../test/notify-fixture.js';
import { startSmtpSink } from '../test/servers/smtp-sink.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const quick = process.argv.includes('--quick');
const people = arg('--people', quick ? 240_000 : 2_400_000);
const messages = arg('--messages', quick ? 2_000 : 20_000);
const goalMs = 60_000;
const from = 'notices@example.org';

process.env['LEAKWATCH_SECRET_KEY'] ??= randomBytes(32).toString('base64');
const dir = mkdtempSync(join(tmpdir(), 'lw-bench-notify-'));
const log = (text: string): void => {
  process.stderr.write(`${text}\n`);
};

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await work();
  return { ms: performance.now() - t, value };
}

const store = await Store.open(parseStoreLocation(join(dir, 'store')), 'bench');
try {
  // --- 1. outbox ------------------------------------------------------------------------------
  const [watched] = await store.upsertWatchedStores([
    { name: 'bench', target: 'redis://127.0.0.1:6399', protocol: 'redis', intervalMs: 60_000 },
  ]);
  if (watched === undefined) throw new Error('no watched store');
  const [incident] = await store.db.query<{ id: number }>(
    `insert into incident (store_id, aware_at, jurisdictions, measured, facts)
     values ($1, now(), '["gdpr"]', '{}', $2::jsonb) returning id`,
    [watched.id, JSON.stringify(completeFacts)],
  );
  if (incident === undefined) throw new Error('no incident');
  log(`writing ${people.toLocaleString('en-US')} affected people (setup, not timed)…`);
  // One sealed value for all: prepareOutbox never opens contacts, so their content costs nothing here.
  const setup = await timed(() =>
    store.db.query(
      `insert into affected_person (incident_id, subject_hash, identifier_kind, categories, contact_hash, contact)
       select $1, md5(g::text), 'email', '["email","wifi_ssid"]'::jsonb, md5('c' || g),
              'AAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB.CCCCCCCCCCCCCCCCCCCCCCCCCCCC' || g
       from generate_series(1, $2::int) g`,
      [incident.id, people],
    ),
  );
  log(`  setup took ${(setup.ms / 1000).toFixed(1)} s`);

  await store.db.exec(`create table bench_outbox (like notification including all)`);
  const bare = await timed(() =>
    store.db.query(
      `insert into bench_outbox (incident_id, person_id, message_id)
       select $1::bigint, g, '<inc-' || $1::bigint || '.p' || g || '@example.org>' from generate_series(1, $2::int) g`,
      [incident.id, people],
    ),
  );
  await store.db.exec('drop table bench_outbox');
  log(`  baseline bare insert: ${(bare.ms / 1000).toFixed(1)} s`);
  const outbox = await timed(() => prepareOutbox(store, incident.id, 'example.org'));
  log(`  prepareOutbox: ${(outbox.ms / 1000).toFixed(1)} s (${outbox.value} rows)`);
  const again = await timed(() => prepareOutbox(store, incident.id, 'example.org'));
  log(`  prepareOutbox again (idempotent): ${(again.ms / 1000).toFixed(1)} s (${again.value} rows)`);
  await store.db.exec('truncate notification, affected_person');
  await store.db.exec('vacuum');

  // --- 2. delivery ----------------------------------------------------------------------------
  log(`seeding ${messages.toLocaleString('en-US')} people with sealed contacts…`);
  const keys = store.peopleKeys();
  const campaignId = await seedNotifyIncident(store, keys, {
    people: messages,
    categoriesOf: (i) => (i % 50 === 0 ? ['health_metric', 'gender'] : ['wifi_ssid', 'device_name']),
    name: 'bench-delivery',
  });
  const record = await loadIncident(store, campaignId);
  if (record === undefined) throw new Error('no incident');
  const sink = await startSmtpSink({ keep: 'headers' });
  try {
    // Baseline: nodemailer alone, same pool, same letters, same number in flight.
    const composer = new NotificationComposer(record, 'gdpr-34');
    const transport = createTransport({ url: sink.url, pool: true, maxConnections: 4, maxMessages: 1000 });
    let nextIndex = 0;
    const raw = await timed(async () => {
      await Promise.all(
        Array.from({ length: campaignDefaults.concurrency }, async () => {
          for (let i = nextIndex++; i < messages; i = nextIndex++) {
            const content = composer.compose(
              i % 50 === 0 ? ['email', 'health_metric', 'gender'] : ['email', 'wifi_ssid', 'device_name'],
            );
            await transport.sendMail({
              from,
              to: personEmail(i),
              ...content,
              messageId: `<raw-${i}@example.org>`,
            });
          }
        }),
      );
    });
    transport.close();
    log(`  baseline nodemailer: ${Math.round((messages / raw.ms) * 1000)} messages/s`);
    sink.messages.length = 0;

    const outboxed = await timed(() => prepareOutbox(store, campaignId, 'example.org'));
    const sender = createNotificationSender({ smtp: sink.url, from });
    const campaign = await timed(() =>
      runCampaign(store, { incident: record, kind: 'gdpr-34', sender, keys }),
    );
    sender.close();
    if (campaign.value.outbox.sent !== messages || sink.messages.length !== messages)
      throw new Error(`campaign sent ${campaign.value.outbox.sent}, sink got ${sink.messages.length}`);
    log(`  campaign: ${Math.round((messages / campaign.ms) * 1000)} messages/s`);

    const perSecond = (n: number, ms: number) => Math.round((n / ms) * 1000);
    const rows = [
      ['measure', 'leakwatch', 'baseline', 'ratio', 'goal'],
      [
        `outbox rows written (${people.toLocaleString('en-US')})`,
        `${(outbox.ms / 1000).toFixed(1)} s`,
        `${(bare.ms / 1000).toFixed(1)} s (bare INSERT … generate_series)`,
        `${(outbox.ms / bare.ms).toFixed(2)}×`,
        `<= 60 s: ${outbox.ms <= goalMs ? 'met' : 'NOT met'}`,
      ],
      ['outbox again (idempotent)', `${(again.ms / 1000).toFixed(1)} s`, '', '', ''],
      [
        `delivery to local sink (${messages.toLocaleString('en-US')})`,
        `${perSecond(messages, campaign.ms)} msg/s`,
        `${perSecond(messages, raw.ms)} msg/s (nodemailer pool alone)`,
        `${(perSecond(messages, campaign.ms) / perSecond(messages, raw.ms)).toFixed(2)}×`,
        '',
      ],
      [
        `outbox of the delivery campaign (${messages.toLocaleString('en-US')})`,
        `${outboxed.ms.toFixed(0)} ms`,
        '',
        '',
        '',
      ],
    ];
    const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
    const line = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join(' | ')} |`;
    process.stdout.write(
      [
        line(rows[0] ?? []),
        `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
        ...rows.slice(1).map(line),
      ].join('\n') + '\n',
    );
  } finally {
    await sink.stop();
  }
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
