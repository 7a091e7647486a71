import { Command, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { UsageError } from '../core/errors.js';
import { parseTarget } from '../core/parse-target.js';
import { startStatusApi } from '../server/status-api.js';
import type { Store } from '../store/store.js';
import type { AlertChannel } from '../watch/alert-channel.js';
import { BossSchedule } from '../watch/boss-schedule.js';
import { describeEvent } from '../watch/describe-event.js';
import { createEmailChannel, type EmailChannel } from '../watch/email-channel.js';
import { LocalSchedule } from '../watch/local-schedule.js';
import { startMetricsServer } from '../watch/metrics-server.js';
import { createSlackChannel } from '../watch/slack-channel.js';
import { proberDefaults } from '../watch/store-prober.js';
import { loadWatchConfig, type WatchConfig } from '../watch/watch-config.js';
import type { WatchEvent } from '../watch/watch-event.js';
import { WatchMetrics } from '../watch/watch-metrics.js';
import { Watcher } from '../watch/watcher.js';
import { createWebhookChannel } from '../watch/webhook-channel.js';
import type { CommandResult } from './scan-command.js';
import { collectList, parseDurationOption, parsePositiveInt } from './parse-options.js';
import { openStore } from './store-access.js';

const examples = `
Examples:
  $ leakwatch watch redis://127.0.0.1:6379 --webhook http://127.0.0.1:8080/hook --webhook-secret whsec_…
  $ leakwatch watch --config leakwatch.yaml --metrics 127.0.0.1:9464
  $ leakwatch watch postgres://127.0.0.1:5432/app --slack-webhook https://hooks.slack.com/services/…
  $ leakwatch watch --config leakwatch.yaml --store postgres://leakwatch@db:5432/leakwatch   # shared with workers

Every store is probed read-only every --interval (jittered ±20%); an open store is classified when it
opens, after every change and every --classify-interval. Each change is recorded in the store
(leakwatch status, leakwatch history TARGET) and alerted once per channel, retried with backoff.
The webhook secret may also come from LEAKWATCH_WEBHOOK_SECRET. Stop with Ctrl-C.
Watch only what you are authorised to.`;

/** What `watch` and `worker` share: channels, metrics, settings, from the config file and flags. */
export interface WatchSetup {
  config: WatchConfig | undefined;
  channels: AlertChannel[];
  settings: {
    intervalMs: number;
    classifyIntervalMs: number;
    timeoutMs: number;
    sampleLimit: number;
    concurrency: number;
  };
  metricsListen: string | undefined;
}

export interface WatchFlags {
  config?: string;
  interval?: number;
  classifyInterval?: number;
  timeout?: number;
  sample?: number;
  concurrency?: number;
  webhook?: string[];
  webhookSecret?: string;
  slackWebhook?: string[];
  emailTo?: string[];
  emailFrom?: string;
  smtp?: string;
  metrics?: string;
}

export async function resolveWatchSetup(flags: WatchFlags): Promise<WatchSetup> {
  const config = flags.config === undefined ? undefined : await loadWatchConfig(flags.config);
  const channels: AlertChannel[] = [];
  for (const hook of config?.alerts.webhooks ?? []) channels.push(createWebhookChannel(hook));
  const secret = flags.webhookSecret ?? process.env['LEAKWATCH_WEBHOOK_SECRET'];
  for (const url of flags.webhook ?? []) {
    if (secret === undefined) {
      throw new UsageError(
        '--webhook needs a signing secret: --webhook-secret whsec_… or LEAKWATCH_WEBHOOK_SECRET ' +
          "(generate one with: node -e \"console.log('whsec_'+require('crypto').randomBytes(32).toString('base64'))\")",
      );
    }
    channels.push(createWebhookChannel({ url, secret }));
  }
  for (const slack of config?.alerts.slack ?? []) channels.push(createSlackChannel(slack));
  for (const url of flags.slackWebhook ?? []) channels.push(createSlackChannel({ url }));
  const email = config?.alerts.email;
  if (email !== undefined) channels.push(createEmailChannel(email));
  if (flags.emailTo !== undefined) {
    if (flags.smtp === undefined) throw new UsageError('--email-to needs --smtp smtp://host:port');
    channels.push(
      createEmailChannel({
        smtp: flags.smtp,
        from: flags.emailFrom ?? 'leakwatch@localhost',
        to: flags.emailTo,
      }),
    );
  }
  const ids = new Set<string>();
  for (const channel of channels) {
    if (ids.has(channel.id)) throw new UsageError(`alert channel ${channel.id} is configured twice`);
    ids.add(channel.id);
  }
  const metrics = config?.metrics;
  return {
    config,
    channels,
    settings: {
      intervalMs: flags.interval ?? config?.intervals.protection ?? proberDefaults.intervalMs,
      classifyIntervalMs:
        flags.classifyInterval ?? config?.intervals.classification ?? proberDefaults.classifyIntervalMs,
      timeoutMs: flags.timeout ?? config?.timeout ?? proberDefaults.timeoutMs,
      sampleLimit: flags.sample ?? config?.sample ?? proberDefaults.sampleLimit,
      concurrency: flags.concurrency ?? config?.concurrency ?? proberDefaults.concurrency,
    },
    metricsListen:
      flags.metrics ??
      (metrics === undefined
        ? undefined
        : metrics.host.includes(':')
          ? `[${metrics.host}]:${metrics.port}`
          : `${metrics.host}:${metrics.port}`),
  };
}

/** A watched store is one service: a protocol and one address, not a bare host or a range. */
function checkWatchTarget(text: string): { display: string; protocol: string } {
  const spec = parseTarget(text);
  if (spec.prefixLength !== undefined) {
    throw new UsageError(
      `"${spec.display}" is a network range: watch one store per target, e.g. redis://127.0.0.1:6379`,
    );
  }
  if (spec.protocol === undefined) {
    throw new UsageError(
      `"${spec.display}" needs a protocol, e.g. redis://${spec.display}: a watched store is one service`,
    );
  }
  return { display: spec.display, protocol: spec.protocol };
}

export function printEvent(event: WatchEvent, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(event)}\n`);
    return;
  }
  const description = describeEvent(event);
  process.stdout.write(`${event.at}  ${description.subject.replace(/^\[leakwatch\] /, '')}\n`);
  for (const line of description.lines.slice(2)) process.stdout.write(`    ${line}\n`);
}

/** Resolves on SIGINT/SIGTERM, or after `forMs` when given. */
export function untilStopped(forMs: number | undefined): Promise<string> {
  return new Promise((resolve) => {
    const done = (why: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      if (timer !== undefined) clearTimeout(timer);
      resolve(why);
    };
    const onInt = () => {
      done('SIGINT');
    };
    const onTerm = () => {
      done('SIGTERM');
    };
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    const timer =
      forMs === undefined
        ? undefined
        : setTimeout(() => {
            done('time');
          }, forMs);
  });
}

/**
 * Runs a watcher until stopped: the shared part of `watch` (which registers stores first) and
 * `worker` (which probes whatever the shared schedule hands it).
 */
export async function runWatcher(
  store: Store,
  setup: WatchSetup,
  options: { json: boolean; quiet: boolean; forMs: number | undefined; localStoreIds?: number[] },
): Promise<void> {
  const metrics = new WatchMetrics();
  const metricsServer =
    setup.metricsListen === undefined
      ? undefined
      : await startMetricsServer({ listen: setup.metricsListen, metrics });
  const note = (message: string) => {
    if (!options.quiet) process.stderr.write(`leakwatch: ${message}\n`);
  };
  if (metricsServer !== undefined) note(`metrics at ${metricsServer.url}`);
  const statusApi = store.location.kind === 'pglite' ? await startStatusApi(store) : undefined;
  if (statusApi !== undefined) store.advertiseApi({ url: statusApi.url, token: statusApi.token });
  const released = await store.releaseDeadLeases();
  if (released > 0) note(`${released} alert(s) a stopped process was sending go out again`);
  const rows = await store.listWatchedStores({ activeOnly: true });
  const names = new Map(rows.map((r) => [r.id, r.name]));
  const schedule =
    store.location.kind === 'postgres'
      ? new BossSchedule({ url: store.location.url, db: store.db, concurrency: setup.settings.concurrency })
      : new LocalSchedule(setup.settings.concurrency);
  const watcher = new Watcher({
    store,
    schedule,
    stores: rows
      .filter((r) => options.localStoreIds === undefined || options.localStoreIds.includes(r.id))
      .map((r) => ({ id: r.id, intervalMs: r.intervalMs })),
    channels: setup.channels,
    metrics,
    timeoutMs: setup.settings.timeoutMs,
    classifyIntervalMs: setup.settings.classifyIntervalMs,
    sampleLimit: setup.settings.sampleLimit,
    sampleTimeoutMs: proberDefaults.sampleTimeoutMs,
    dispatcher: {
      onDelivered: (channel, event) => {
        note(`alert ${event.id} (${event.kind}) delivered to ${channel.id}`);
      },
      onFailure: (channel, event, error, willRetry) => {
        note(
          `alert ${event.id} to ${channel.id} failed: ${error}${willRetry ? '; will retry' : '; giving up'}`,
        );
      },
    },
    onEvent: (event) => {
      printEvent(event, options.json);
    },
    onProbeError: (id, message) => {
      note(`could not record a probe of ${names.get(id) ?? `store ${id}`}: ${message}`);
    },
  });
  await watcher.start();
  note(
    `watching ${rows.length} store(s) every ${setup.settings.intervalMs / 1000}s; ` +
      `${setup.channels.length} alert channel(s); state in ${store.displayLocation}`,
  );
  const why = await untilStopped(options.forMs);
  note(why === 'time' ? 'stopping (--for elapsed)' : `stopping (${why})`);
  await watcher.stop();
  for (const channel of setup.channels) {
    if ('close' in channel) await (channel as EmailChannel).close();
  }
  await metricsServer?.close();
  await statusApi?.close();
}

/** `leakwatch watch`: keeps probing stores, records every change, alerts. */
export function watchCommand(result: CommandResult): CommandUnknownOpts {
  return new Command('watch')
    .summary('re-check stores continuously; record and alert every change of protection')
    .description(
      'Probe every store on its interval, keep its exposure timeline in the store (--store), and send ' +
        'one alert per change (opened, closed, unreachable, new data, size jump, ransom note) to each channel.',
    )
    .argument('[targets...]', 'stores to watch: PROTOCOL://[user[:password]@]host[:port][/path]')
    .option('-c, --config <file>', 'leakwatch.yaml: stores, owners, tags, alert channels, intervals')
    .option('--interval <duration>', 'protection check per store (default 5s)', parseDurationOption)
    .option(
      '--classify-interval <duration>',
      're-sample an open store this often (default 10m)',
      parseDurationOption,
    )
    .option('--timeout <duration>', 'per probe (default 5s)', parseDurationOption)
    .option(
      '--sample <n>',
      'records per collection when classifying (default 1000)',
      parsePositiveInt(1_000_000),
    )
    .option('--concurrency <n>', 'probes at once (default 32)', parsePositiveInt(1024))
    .option('--webhook <url>', 'POST each event, signed (Standard Webhooks); repeatable', collectList)
    .option('--webhook-secret <secret>', 'whsec_… signing secret (or LEAKWATCH_WEBHOOK_SECRET)')
    .option('--slack-webhook <url>', 'Slack-compatible incoming webhook; repeatable', collectList)
    .option('--email-to <addr>', 'email each event to ADDR; repeatable (needs --smtp)', collectList)
    .option('--email-from <addr>', 'sender of alert emails', 'leakwatch@localhost')
    .option('--smtp <url>', 'smtp://[user:pass@]host:port or smtps://… for --email-to')
    .option('--metrics <host:port>', 'serve Prometheus /metrics there (e.g. 127.0.0.1:9464)')
    .option(
      '--store <path|url>',
      'state: a directory (default ./.leakwatch) or postgres://… shared with workers',
    )
    .option('--for <duration>', 'stop after this long (default: until Ctrl-C)', parseDurationOption)
    .option('--json', 'print events as JSON lines on stdout')
    .option('-q, --quiet', 'no notes on stderr')
    .addHelpText('after', examples)
    .action(async (positional, options) => {
      const setup = await resolveWatchSetup(options);
      const definitions = [
        ...(setup.config?.stores ?? []).map((s) => ({
          name: s.name,
          target: s.target,
          protocol: s.spec.protocol,
          ...(s.owner === undefined ? {} : { owner: s.owner }),
          tags: s.tags,
          intervalMs: options.interval ?? s.interval,
        })),
        ...positional.map((target) => {
          const checked = checkWatchTarget(target);
          return {
            name: checked.display,
            target,
            protocol: checked.protocol,
            intervalMs: setup.settings.intervalMs,
          };
        }),
      ];
      if (definitions.length === 0) {
        throw new UsageError(
          'nothing to watch: name targets (leakwatch watch redis://127.0.0.1:6379) or --config FILE',
        );
      }
      const names = new Set<string>();
      for (const definition of definitions) {
        if (names.has(definition.name)) throw new UsageError(`store "${definition.name}" is named twice`);
        names.add(definition.name);
      }
      const store = await openStore(options.store, 'watch');
      try {
        const rows = await store.upsertWatchedStores(definitions);
        // An embedded store has one watcher: what it was not asked to watch now is no longer watched.
        if (store.location.kind === 'pglite') await store.setActiveStores(rows.map((r) => r.id));
        await runWatcher(store, setup, {
          json: options.json === true,
          quiet: options.quiet === true,
          forMs: options.for,
          localStoreIds: rows.map((r) => r.id),
        });
      } finally {
        await store.close();
      }
      result.exitCode = 0;
    });
}
