/**
 * The night of the leak, replayed on loopback with nothing but what npm installs:
 *
 *   npm run demo [-- --users N] [--json] [--out DIR] [--emails N|all] [--interval SECONDS]
 *
 * A synthetic customer base (corpus/generate-dataset.ts) is loaded into an "analytics copy"
 * (PGlite over the PostgreSQL wire protocol, behind a password guard); an MQTT broker carries device
 * telemetry; an HTTP server holds a forgotten CSV export. All three start protected and are watched
 * in this process through Leakwatch's own APIs. Then the Dec 4 mistake: the copy's protection is
 * removed. The story follows: detection, what is exposed and whose, containment, the incident with
 * its deadlines, notices, notification emails and revocation hooks, and a report.
 *
 * The story goes to stdout (stderr with --json, whose summary then is the only thing on stdout).
 * Everything it starts stops before it returns, on failure too; only the output directory stays.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateDataset } from '../corpus/generate-dataset.js';
import type { Category } from '../src/core/category.js';
import type { SubjectCounts } from '../src/core/scan-report.js';
import { loadIncident, markContained, updateFacts } from '../src/incident/incident-store.js';
import { draftNotice, noticeKinds } from '../src/incident/notice.js';
import { renderNotice } from '../src/incident/notice-render.js';
import { prepareOutbox } from '../src/incident/notification-outbox.js';
import { createNotificationSender } from '../src/incident/notification-sender.js';
import { runCampaign } from '../src/incident/notify.js';
import { openIncident } from '../src/incident/open-incident.js';
import { runRevocation, type RevocationAction } from '../src/incident/revoke.js';
import { renderHtmlReport } from '../src/report/html-report.js';
import { parseStoreLocation, Store } from '../src/store/store.js';
import { LocalSchedule } from '../src/watch/local-schedule.js';
import { storeHistory, type StoreHistory } from '../src/watch/status-view.js';
import type { WatchEvent } from '../src/watch/watch-event.js';
import { Watcher } from '../src/watch/watcher.js';
import { createWebhookChannel } from '../src/watch/webhook-channel.js';
import { startAnalyticsCopy } from './analytics-copy.js';
import { startCsvExportServer } from './csv-export-server.js';
import { startHookReceiver, startSmtpSink, type ReceivedHook } from './local-sinks.js';
import { createStoryLog, formatCount, formatSeconds, type StoryLog } from './story-log.js';
import { startTelemetryBroker } from './telemetry-broker.js';

export interface DemoOptions {
  users: number;
  json: boolean;
  /** Where notices and the report are written (kept); a new temp dir by default. */
  out?: string;
  /** Notification emails sent now: the first N as a canary, or all. */
  emails: number | 'all';
  /** Probe interval of the demo's watch (the default `watch` interval is 5 s). */
  intervalMs: number;
}

/** The `--json` summary: numbers only, for the end-to-end test and for scripts. */
export interface DemoSummary {
  users: number;
  dataset: { accountsRecords: number; generateMs: number };
  analyticsCopy: { rows: number; loadMs: number };
  ports: Record<string, number>;
  watch: { intervalMs: number };
  detection: { latencyMs: number; sampledSubjects: number };
  containment: { windowMs: number; closedAlertMs: number };
  incident: {
    ref: string;
    subjects: SubjectCounts;
    reachable: number;
    records?: number;
    deadlines: { id: string; dueAt?: string }[];
    reReadMs: number;
  };
  notices: string[];
  notifications?: { queued: number; sent: number; failed: number };
  revocations?: { action: string; batches: number; subjects: number }[];
  report: string;
  outDir: string;
  wallMs: number;
}

/** The generator's files the demo uses; the generator's labels for them are the ground truth. */
export const demoDatasetFiles = ['accounts.ndjson', 'devices.csv'] as const;

const usage = 'usage: npm run demo [-- --users N] [--json] [--out DIR] [--emails N|all] [--interval SECONDS]';
export const demoHelp = `${usage}

Replays the night of the leak on this machine (127.0.0.1 only, nothing to install beyond npm ci):
an analytics copy of a synthetic customer base loses its password, Leakwatch detects it, counts
who is exposed, opens the incident, drafts notices, emails people and calls revocation hooks.

Options:
  --users N         synthetic customers to generate (default 24,000; 2,400,000 is the size of the
                    2019 leak and takes several minutes and a few GiB of memory)
  --emails N|all    notification emails sent now, as a canary of the first N (default 100); the
                    rest wait in the outbox, as they would for a real campaign
  --interval S      watch's probe interval in seconds (default 2; leakwatch watch uses 5)
  --out DIR         where notices and report.html are written (default: a new temporary folder)
  --json            the story goes to stderr, and one JSON summary to stdout
  -h, --help        this text

Examples:
  npm run demo
  npm run demo -- --users 2400000 --out ./demo-out
  npm run demo -- --users 2000 --json | jq .incident.subjects
`;

export function parseDemoArgs(argv: readonly string[]): DemoOptions | 'help' {
  const options: DemoOptions = { users: 24_000, json: false, emails: 100, intervalMs: 2000 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg ?? ''} needs a value\n${usage}`);
      return v;
    };
    if (arg === '--json') options.json = true;
    else if (arg === '--users') {
      const n = Number(value().replace(/[_,]/g, ''));
      if (!Number.isInteger(n) || n < 100 || n > 10_000_000)
        throw new Error('--users must be a whole number from 100 to 10,000,000');
      options.users = n;
    } else if (arg === '--out') options.out = resolve(value());
    else if (arg === '--emails') {
      const v = value();
      const n = Number(v);
      if (v !== 'all' && !(Number.isInteger(n) && n >= 0))
        throw new Error('--emails must be a number or "all"');
      options.emails = v === 'all' ? 'all' : n;
    } else if (arg === '--interval') {
      const s = Number(value());
      if (!(s >= 0.5 && s <= 60)) throw new Error('--interval must be 0.5 to 60 seconds');
      options.intervalMs = Math.round(s * 1000);
    } else if (arg === '--help' || arg === '-h') return 'help';
    else throw new Error(`unknown option ${arg ?? ''}\n${usage}`);
  }
  return options;
}

/** Things to stop, last started first; each stop is bounded so a stuck one cannot hang the exit. */
class Teardown {
  private readonly steps: { what: string; stop: () => Promise<void> }[] = [];

  add(what: string, stop: () => Promise<void>): void {
    this.steps.push({ what, stop });
  }

  async run(): Promise<string[]> {
    const problems: string[] = [];
    for (const step of this.steps.splice(0).reverse()) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          step.stop(),
          new Promise((_, reject) => {
            timer = setTimeout(() => {
              reject(new Error('did not stop within 15 s'));
            }, 15_000);
          }),
        ]);
      } catch (error) {
        problems.push(`${step.what}: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        clearTimeout(timer);
      }
    }
    return problems;
  }
}

// Most striking first, with the words the story uses (DESIGN.md: emails, SSIDs, tokens, body metrics).
const storyCategories: [Category, string][] = [
  ['email', 'email addresses'],
  ['username', 'usernames'],
  ['wifi_ssid', 'WiFi network names (SSIDs)'],
  ['network_layout', 'home network layouts'],
  ['api_token', 'iOS/Android API tokens'],
  ['oauth_token', 'Alexa (Login with Amazon) tokens'],
  ['device_name', 'camera nicknames'],
  ['firmware_version', 'device models and firmware'],
  ['activity_time', 'login/logout/last-on times'],
  ['health_metric', 'body metrics (height, weight, bone mass…)'],
  ['gender', 'gender'],
];

function tellExposure(log: StoryLog, subjects: SubjectCounts): void {
  const width = Math.max(...storyCategories.map(([c]) => formatCount(subjects.byCategory[c] ?? 0).length));
  for (const [category, words] of storyCategories) {
    const n = subjects.byCategory[category];
    if (n !== undefined && n > 0) log.detail(`${formatCount(n).padStart(width)} people: ${words}`);
  }
}

// What a controller would fill in with `leakwatch incident facts`; invented for the demo's vendor.
const demoFacts = {
  controller: 'Example Cams Inc., 1 Demo Way, Seattle, WA 98101, USA',
  dpoContact: 'privacy@cams.example.org',
  contactPoint: 'privacy@cams.example.org, +1 800 555 0100',
  tollFreeNumber: '+1 800 555 0100',
  subjectCategories: 'customers of the camera and smart-scale apps, and people they shared cameras with',
  consequences:
    'Anyone who found the database could read account details, home WiFi names and network layout, and use app and Alexa tokens to act on accounts until they were revoked.',
  measuresTaken:
    'The database was protected again, every session was logged out, API tokens were rotated and Alexa links were removed.',
  measuresProposed:
    'Analytics copies will hold de-identified data only, and every data store is now watched for lost protection.',
  lawEnforcementDelay: false,
};

async function waitUntil<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function runDemo(options: DemoOptions, log: StoryLog, teardown: Teardown): Promise<DemoSummary> {
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'leakwatch-demo-work-'));
  teardown.add('temporary files', () => {
    rmSync(work, { recursive: true, force: true });
    return Promise.resolve();
  });
  const outDir = options.out ?? mkdtempSync(join(tmpdir(), 'leakwatch-demo-'));
  mkdirSync(outDir, { recursive: true });
  const { colors } = log;

  log.heading('1. A customer base, a copy for analytics, and two other stores');
  log.line(
    'step',
    `Generating ${formatCount(options.users)} synthetic customers (corpus/generate-dataset.ts)…`,
  );
  const dataset = generateDataset({
    users: options.users,
    out: join(work, 'dataset'),
    files: demoDatasetFiles,
  });
  const truth = dataset.labels.files['accounts.ndjson'];
  const accountsRecords = truth?.collections['accounts']?.records ?? 0;
  log.line(
    'ok',
    `${formatCount(accountsRecords)} account documents in ${formatSeconds(dataset.ms)} (all values invented)`,
  );

  const user = 'analyst';
  const password = randomBytes(12).toString('base64url');
  log.line('step', 'Loading the accounts into the analytics copy (PGlite, COPY FROM)…');
  let lastProgress = Date.now();
  const copy = await startAnalyticsCopy({
    accountsFile: join(dataset.out, 'accounts.ndjson'),
    dataDir: join(work, 'analytics-copy'),
    user,
    password,
    onProgress: (rows) => {
      if (Date.now() - lastProgress < 10_000) return;
      lastProgress = Date.now();
      log.detail(`${formatCount(rows)} of ${formatCount(accountsRecords)} rows loaded`);
    },
  });
  teardown.add('analytics copy', () => copy.stop());
  log.line(
    'ok',
    `analytics copy: ${formatCount(copy.rows)} rows in ${formatSeconds(copy.loadMs)}, PostgreSQL protocol on 127.0.0.1:${copy.guard.port}, password required`,
  );
  const broker = await startTelemetryBroker({
    devicesFile: join(dataset.out, 'devices.csv'),
    maxDevices: 200,
    user: 'gateway',
    password,
  });
  teardown.add('MQTT broker', () => broker.stop());
  log.line(
    'ok',
    `telemetry broker (aedes MQTT) on 127.0.0.1:${broker.port}: ${broker.devices} retained camera messages, anonymous clients refused`,
  );
  const exportServer = await startCsvExportServer({
    devicesFile: join(dataset.out, 'devices.csv'),
    user: 'ops',
    password,
  });
  teardown.add('CSV export server', () => exportServer.stop());
  log.line('ok', `forgotten CSV export (HTTP) on 127.0.0.1:${exportServer.port}: devices.csv behind a 401`);

  const hooks = await startHookReceiver();
  teardown.add('webhook receiver', () => hooks.stop());
  const smtp = await startSmtpSink();
  teardown.add('SMTP sink', () => smtp.stop());

  log.heading('2. Leakwatch watches all three');
  const store = await Store.open(parseStoreLocation(join(work, 'leakwatch-state')), 'demo');
  teardown.add('Leakwatch store', () => store.close());
  const copyName = 'analytics-copy';
  const rows = await store.upsertWatchedStores([
    {
      name: copyName,
      target: copy.target(),
      protocol: 'postgres',
      owner: 'data-team',
      intervalMs: options.intervalMs,
    },
    {
      name: 'device-telemetry',
      target: `mqtt://127.0.0.1:${broker.port}`,
      protocol: 'mqtt',
      owner: 'iot-platform',
      intervalMs: options.intervalMs,
    },
    {
      name: 'csv-export',
      target: `http://127.0.0.1:${exportServer.port}/`,
      protocol: 'http',
      owner: 'ops',
      intervalMs: options.intervalMs,
    },
  ]);
  await store.setActiveStores(rows.map((r) => r.id));
  const alertSecret = `whsec_${randomBytes(32).toString('base64')}`;
  const probeErrors: string[] = [];
  const watcher = new Watcher({
    store,
    schedule: new LocalSchedule(8),
    stores: rows.map((r) => ({ id: r.id, intervalMs: r.intervalMs })),
    channels: [createWebhookChannel({ url: hooks.url('/alerts'), secret: alertSecret, timeoutMs: 5000 })],
    timeoutMs: 5000,
    classifyIntervalMs: 10 * 60_000,
    sampleLimit: 1000,
    sampleTimeoutMs: 30_000,
    dispatcher: { pollMs: 250 },
    onProbeError: (id, message) => probeErrors.push(`store ${id}: ${message}`),
  });
  await watcher.start();
  teardown.add('watcher', () => watcher.stop());
  log.line(
    'step',
    `watch: every ${options.intervalMs / 1000} s (shortened for the demo; \`leakwatch watch\` defaults to 5 s), alerts to a local webhook`,
  );
  await waitUntil('all three stores seen protected', 60_000, async () => {
    const states = await store.listWatchedStores({ activeOnly: true });
    return states.every((s) => s.state === 'protected') ? states : undefined;
  });
  for (const row of await store.listWatchedStores({ activeOnly: true }))
    log.line('ok', `${row.name}: protected ${colors.dim(`(${row.detail})`)}`);

  log.heading('3. Dec 4: an analyst removes the copy’s protection');
  await new Promise((r) => setTimeout(r, Math.min(1500, options.intervalMs)));
  const removedAt = Date.now();
  await copy.guard.setProtected(false);
  log.line('alert', 'analytics-copy now accepts any login without a password');
  const isOpened = (h: ReceivedHook): boolean =>
    h.path === '/alerts' && h.store === copyName && (h.kind === 'opened' || h.kind === 'first-seen');
  const opened = await hooks.waitFor(isOpened, 60_000);
  const latencyMs = opened.at - removedAt;
  const events = await store.listEvents(rows[0]?.id ?? 0);
  const openedEvent = events
    .map((e) => e.payload as WatchEvent)
    .reverse()
    .find((e) => e.kind === 'opened');
  log.line(
    'alert',
    `DETECTED after ${formatSeconds(latencyMs)}: the "opened" alert reached the on-call webhook`,
  );
  log.detail(`from the removal to the alert's arrival (probes every ${options.intervalMs / 1000} s)`);
  const sampled = openedEvent?.exposure?.subjects ?? { total: 0, byCategory: {} };
  log.detail(
    `watch's first look, a sample of 1,000 rows: ${formatCount(sampled.total)} people, ${openedEvent?.exposure?.categories.length ?? 0} kinds of data`,
  );

  log.heading('4. Contain, then count everyone');
  // One more open probe, so the window records how long it stayed open, then the fix.
  await new Promise((r) => setTimeout(r, options.intervalMs));
  const containedAt = Date.now();
  await copy.guard.setProtected(true);
  log.line('step', 'protection restored (contained); waiting for watch to close the exposure window…');
  const closed = await hooks.waitFor(
    (h) => h.path === '/alerts' && h.store === copyName && h.kind === 'closed',
    60_000,
  );
  const windows = await store.listWindows(rows[0]?.id ?? 0);
  const window = windows.at(-1);
  const windowMs =
    window?.closedAt === null || window?.closedAt === undefined
      ? 0
      : window.closedAt.getTime() - window.openedAt.getTime();
  log.line(
    'ok',
    `window closed: open from ${window?.openedAt.toISOString().slice(11, 19) ?? '?'} to ${window?.closedAt?.toISOString().slice(11, 19) ?? '?'} UTC (${formatSeconds(windowMs)}), "closed" alert after ${formatSeconds(closed.at - containedAt)}`,
  );
  log.line(
    'step',
    'opening the incident: a read-only re-read of EVERY row, with the analyst login (the copy is protected again)…',
  );
  const reReadStarted = Date.now();
  let reReadShown = reReadStarted;
  const openedIncident = await openIncident(store, {
    target: copy.target(true),
    timeoutMs: 30_000,
    readTimeoutMs: 60 * 60_000,
    onRecords: (records) => {
      if (Date.now() - reReadShown < 10_000) return;
      reReadShown = Date.now();
      log.detail(`${formatCount(records)} of ${formatCount(copy.rows)} rows read`);
    },
  });
  const reReadMs = Date.now() - reReadStarted;
  if (window?.closedAt !== undefined && window.closedAt !== null)
    await markContained(store, openedIncident.id, window.closedAt);
  await updateFacts(store, openedIncident.id, demoFacts);
  const incident = await loadIncident(store, openedIncident.id);
  if (incident === undefined) throw new Error('the incident just opened cannot be read back');
  log.line(
    'alert',
    `${incident.ref}: ${formatCount(incident.subjects.total)} people exposed (${formatCount(incident.reachable)} with an email address), counted in ${formatSeconds(reReadMs)}`,
  );
  tellExposure(log, incident.subjects);

  log.heading('5. Respond');
  log.line('step', `deadlines (aware at ${incident.awareAt.slice(0, 19)}Z):`);
  for (const d of incident.deadlines)
    log.detail(
      `${(d.dueAt === undefined ? 'without undue delay' : `${d.dueAt.slice(0, 16)}Z`).padEnd(20)} ${d.law}: ${d.audience}`,
    );
  const noticeFiles: string[] = [];
  for (const kind of noticeKinds) {
    const draft = draftNotice(incident, kind);
    for (const format of ['markdown', 'html'] as const) {
      const file = join(outDir, `notice-${incident.ref}-${kind}.${format === 'markdown' ? 'md' : 'html'}`);
      writeFileSync(file, renderNotice(draft, format));
      noticeFiles.push(file);
    }
  }
  log.line(
    'ok',
    `${noticeKinds.length} notices drafted (GDPR Art. 33 and 34, California, HIPAA) in ${outDir}`,
  );

  const domain = 'cams.example.org';
  const queued = await prepareOutbox(store, incident.id, domain);
  const sender = createNotificationSender({ smtp: smtp.url, from: `privacy@${domain}`, timeoutMs: 10_000 });
  let notifications: DemoSummary['notifications'];
  try {
    const canary = options.emails === 'all' ? undefined : options.emails;
    if (canary !== 0) {
      const tally = await runCampaign(store, {
        incident,
        kind: 'gdpr-34',
        sender,
        keys: store.peopleKeys(),
        retryDelayMs: 1000,
        ...(canary === undefined ? {} : { canary }),
      });
      notifications = { queued, sent: tally.outbox.sent, failed: tally.outbox.failed };
      const left = tally.outbox.pending;
      log.line(
        'ok',
        `${formatCount(smtp.messages)} notification emails delivered to the local SMTP sink, each listing only that person's data` +
          (left > 0
            ? `; ${formatCount(left)} wait in the outbox (a canary first: --emails all sends every one)`
            : ''),
      );
    }
  } finally {
    sender.close();
  }

  const hookSecret = `whsec_${randomBytes(32).toString('base64')}`;
  const revocations: NonNullable<DemoSummary['revocations']> = [];
  const actions: [RevocationAction, string][] = [
    ['sessions.revoke', 'log everyone out'],
    ['tokens.rotate', 'rotate iOS/Android API tokens'],
    ['integrations.unlink', 'unlink Alexa'],
  ];
  for (const [action, words] of actions) {
    const tally = await runRevocation(store, incident, {
      action,
      url: hooks.url('/revoke'),
      secret: hookSecret,
      batchSize: 5000,
      timeoutMs: 10_000,
    });
    revocations.push({ action, batches: tally.sent, subjects: tally.subjectsAcknowledged });
    log.line(
      tally.failed === 0 ? 'ok' : 'fail',
      `revocation hook "${action}" (${words}): ${tally.sent} signed batches, ${formatCount(tally.subjectsAcknowledged)} people acknowledged`,
    );
  }

  await watcher.stop();
  const histories: StoreHistory[] = [];
  for (const row of rows) {
    const history = await storeHistory(store, row.name);
    if (history !== undefined) histories.push(history);
  }
  const finalIncident = (await loadIncident(store, incident.id)) ?? incident;
  const report = join(outDir, 'report.html');
  writeFileSync(
    report,
    renderHtmlReport({
      title: 'Leakwatch demo: the night of the leak, replayed',
      generatedAt: new Date().toISOString(),
      histories,
      incidents: [finalIncident],
    }),
  );
  log.line('ok', `HTML report: ${report}`);
  if (probeErrors.length > 0)
    log.line('note', `${probeErrors.length} probe errors (first: ${probeErrors[0] ?? ''})`);

  return {
    users: options.users,
    dataset: { accountsRecords, generateMs: Math.round(dataset.ms) },
    analyticsCopy: { rows: copy.rows, loadMs: Math.round(copy.loadMs) },
    ports: {
      analyticsCopy: copy.guard.port,
      telemetryBroker: broker.port,
      csvExport: exportServer.port,
    },
    watch: { intervalMs: options.intervalMs },
    detection: { latencyMs, sampledSubjects: sampled.total },
    containment: { windowMs, closedAlertMs: closed.at - containedAt },
    incident: {
      ref: finalIncident.ref,
      subjects: finalIncident.subjects,
      reachable: finalIncident.reachable,
      ...(finalIncident.records === undefined ? {} : { records: finalIncident.records }),
      deadlines: finalIncident.deadlines.map((d) => ({
        id: d.id,
        ...(d.dueAt === undefined ? {} : { dueAt: d.dueAt }),
      })),
      reReadMs,
    },
    notices: noticeFiles,
    ...(notifications === undefined ? {} : { notifications }),
    revocations,
    report,
    outDir,
    wallMs: Date.now() - started,
  };
}

function summaryBlock(log: StoryLog, s: DemoSummary): string[] {
  const { colors } = log;
  const row = (label: string, value: string): string => `  ${label.padEnd(22)} ${value}`;
  return [
    '',
    colors.bold('Summary'),
    row('customers generated', formatCount(s.users)),
    row(
      'analytics copy',
      `${formatCount(s.analyticsCopy.rows)} rows, loaded in ${formatSeconds(s.analyticsCopy.loadMs)}`,
    ),
    row(
      'detected after',
      `${formatSeconds(s.detection.latencyMs)} (probe every ${s.watch.intervalMs / 1000} s)`,
    ),
    row('exposure window', formatSeconds(s.containment.windowMs)),
    row('people exposed', `${formatCount(s.incident.subjects.total)} (${s.incident.ref})`),
    row('notices', `${s.notices.length / 2} kinds, Markdown and HTML`),
    ...(s.notifications === undefined
      ? []
      : [
          row(
            'emails',
            `${formatCount(s.notifications.sent)} sent of ${formatCount(s.notifications.queued)} queued`,
          ),
        ]),
    row('revocation batches', String((s.revocations ?? []).reduce((n, r) => n + r.batches, 0))),
    row('output', s.outDir),
    row('wall time', formatSeconds(s.wallMs)),
  ];
}

async function main(argv: readonly string[]): Promise<void> {
  let parsed: DemoOptions | 'help';
  try {
    parsed = parseDemoArgs(argv);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
    return;
  }
  if (parsed === 'help') {
    process.stdout.write(demoHelp);
    return;
  }
  const options = parsed;
  const story = options.json ? process.stderr : process.stdout;
  const log = createStoryLog(story, Date.now());
  const teardown = new Teardown();
  let summary: DemoSummary | undefined;
  let failure: unknown;
  // Ctrl-C stops everything started so far, as a failure does.
  const interrupted = new Promise<never>((_, reject) => {
    const onSignal = (): void => {
      reject(new Error('interrupted'));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  interrupted.catch(() => undefined);
  try {
    summary = await Promise.race([runDemo(options, log, teardown), interrupted]);
  } catch (error) {
    failure = error;
  }
  const problems = await teardown.run();
  process.removeAllListeners('SIGINT');
  process.removeAllListeners('SIGTERM');
  if (failure !== undefined || summary === undefined) {
    const message = failure instanceof Error ? failure.message : String(failure);
    log.line('fail', `demo failed: ${message}`);
    for (const p of problems) log.line('fail', `while stopping ${p}`);
    process.exitCode = 1;
    return;
  }
  for (const p of problems) log.line('fail', `while stopping ${p}`);
  log.block(summaryBlock(log, summary));
  if (options.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.exitCode = problems.length > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
