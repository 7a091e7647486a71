import { Command, Option, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { SingleBar } from 'cli-progress';
import { parseDuration } from '../core/duration.js';
import { UsageError } from '../core/errors.js';
import { individualNoticeKinds } from '../incident/notification-message.js';
import { failedPersonIds, prepareOutbox } from '../incident/notification-outbox.js';
import { createNotificationSender, fromDomain, parseSmtpUrl } from '../incident/notification-sender.js';
import {
  campaignDefaults,
  previewCampaign,
  runCampaign,
  type CampaignProgress,
  type CampaignTally,
} from '../incident/notify.js';
import { requireIncident, withStore } from './incident-command.js';
import { parsePositiveNumber } from './parse-options.js';
import type { CommandResult } from './scan-command.js';

/** A bar on stderr when it is a terminal (stdout carries reports only); silent otherwise. */
function createCampaignBar(): { update(p: CampaignProgress): void; stop(): void } {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar({
    stream: process.stderr,
    format:
      'notifying [{bar}] {value}/{total} | sent {sent} | retrying {retried} | failed {failed} | {rate}/s',
    hideCursor: true,
    clearOnComplete: true,
    barsize: 30,
  });
  const started = Date.now();
  let running = false;
  let last = 0;
  return {
    update(p) {
      if (!running) {
        bar.start(p.total, 0, { sent: 0, retried: 0, failed: 0, rate: 0 });
        running = true;
      }
      const now = Date.now();
      // Redrawing per message would cost more than sending at thousands per second.
      if (now - last < 100 && p.sent + p.failed < p.total) return;
      last = now;
      const rate = Math.round((p.sent / Math.max(1, now - started)) * 1000);
      bar.update(p.sent + p.failed, { sent: p.sent, retried: p.retried, failed: p.failed, rate });
    },
    stop() {
      if (running) bar.stop();
    },
  };
}

function describeTally(ref: string, tally: CampaignTally): string {
  const o = tally.outbox;
  const lines = [
    `leakwatch: ${ref} notification tally: sent ${o.sent}, retry pending ${o.pending}, failed permanently ${o.failed}, cancelled ${o.cancelled}` +
      ` (this run: sent ${tally.run.sent}, failed ${tally.run.failed}, retries scheduled ${tally.run.retried})`,
  ];
  if (tally.canary !== undefined)
    lines.push(
      `leakwatch: canary of ${tally.canary} done: check those messages, then run again without --canary to continue (${o.pending} pending)`,
    );
  else if (tally.interrupted)
    lines.push(`leakwatch: interrupted; run the same command again to continue (${o.pending} pending)`);
  else if (tally.completed) lines.push(`leakwatch: campaign complete; recorded in the incident timeline`);
  if (o.failed > 0)
    lines.push(
      `leakwatch: ${o.failed} people could not be reached by email and need a substitute notice: leakwatch notify ${ref} --failed`,
    );
  return `${lines.join('\n')}\n`;
}

/** `leakwatch notify ID --smtp URL --from ADDR [--rate N] [--dry-run] [--canary N] [--kind …]`. */
export function notifyCommand(result: CommandResult): CommandUnknownOpts {
  return new Command('notify')
    .summary('email every affected person the notice about their own data')
    .description(
      'Email one notice per affected person with a contact address, listing exactly the categories of ' +
        'their data that were exposed. Resumable: an outbox in the store records every message; run ' +
        'the same command again after an interruption. SMTP 4xx is retried with backoff, 5xx is final ' +
        '(--failed lists who needs a substitute notice).',
    )
    .argument('<id>', 'incident id or ref (INC-0001)')
    .option('--smtp <url>', 'relay: smtp://[user:pass@]host[:port] or smtps://…')
    .option('--from <address>', 'sender address; its domain names every Message-ID')
    .addOption(
      new Option('--kind <kind>', 'the notice to individuals')
        .choices(individualNoticeKinds)
        .default('gdpr-34' as const),
    )
    .option('--rate <n>', 'messages per second at most', parsePositiveNumber(false))
    .option('--canary <n>', 'send only the first N pending messages, then stop', parsePositiveNumber(true))
    .option('--dry-run', 'show the first message (address masked) and the counts; send and change nothing')
    .option('--failed', 'list the people whose notice failed permanently (for a substitute notice)')
    .option(
      '--attempts <n>',
      `attempts per message before it fails (default ${campaignDefaults.maxAttempts})`,
      parsePositiveNumber(true),
    )
    .option(
      '--retry-delay <duration>',
      `first retry after a 4xx or connection failure, doubled per attempt (default ${campaignDefaults.retryDelayMs / 1000}s)`,
      (v) => parseDuration(v),
    )
    .option('--timeout <duration>', 'per SMTP step (default 30s)', (v) => parseDuration(v))
    .option('--store <path|url>', 'state: a directory (default ./.leakwatch) or postgres://…')
    .addOption(
      new Option('-f, --format <format>', 'text or json (the tally on stdout)')
        .choices(['text', 'json'] as const)
        .default('text' as const),
    )
    .action(async (id, options) => {
      await withStore(options.store, 'notify', async (store) => {
        const incident = await requireIncident(store, id);
        if (options.failed === true) {
          const ids = await failedPersonIds(store, incident.id);
          if (options.format === 'json')
            process.stdout.write(`${JSON.stringify({ failed: ids.length, personIds: ids })}\n`);
          else process.stdout.write(ids.map((n) => `${n}\n`).join(''));
          process.stderr.write(
            `leakwatch: ${ids.length} people of ${incident.ref} need a substitute notice (person ids above)\n`,
          );
          return;
        }
        if (options.from === undefined) throw new UsageError('notify needs --from ADDRESS');
        const domain = fromDomain(options.from);
        const keys = store.peopleKeys();
        if (options.dryRun === true) {
          const preview = await previewCampaign(store, {
            incident,
            kind: options.kind,
            keys,
            domain,
            ...(options.canary === undefined ? {} : { canary: options.canary }),
          });
          if (options.format === 'json') process.stdout.write(`${JSON.stringify(preview, null, 2)}\n`);
          else {
            const first = preview.first;
            process.stdout.write(
              first === undefined
                ? 'nothing to send\n'
                : `From: ${options.from}\nTo: ${first.to}\nSubject: ${first.subject}\nMessage-ID: ${first.messageId}\n\n${first.text}\n`,
            );
          }
          process.stderr.write(
            `leakwatch: dry run: would send ${preview.wouldSend} messages (outbox: ${preview.outbox.sent} sent, ${preview.outbox.pending} pending, ${preview.outbox.failed} failed; ${preview.notInOutbox} people not yet in it); nothing was sent or changed\n`,
          );
          for (const gap of preview.missing)
            process.stderr.write(`leakwatch: the notice still lacks ${gap.field}: ${gap.why}\n`);
          return;
        }
        if (options.smtp === undefined) throw new UsageError('notify needs --smtp URL (or --dry-run)');
        parseSmtpUrl(options.smtp);
        if (incident.status === 'closed')
          throw new UsageError(`${incident.ref} is closed: its contact addresses were purged`);
        const added = await prepareOutbox(store, incident.id, domain);
        if (added > 0) process.stderr.write(`leakwatch: ${added} messages added to the outbox\n`);
        const sender = createNotificationSender({
          smtp: options.smtp,
          from: options.from,
          ...(options.timeout === undefined ? {} : { timeoutMs: options.timeout }),
        });
        const stop = new AbortController();
        const onSignal = (): void => {
          process.stderr.write('leakwatch: stopping after the messages in flight\n');
          stop.abort();
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        const bar = createCampaignBar();
        let tally: CampaignTally;
        try {
          tally = await runCampaign(store, {
            incident,
            kind: options.kind,
            sender,
            keys,
            signal: stop.signal,
            onProgress: (p) => {
              bar.update(p);
            },
            ...(options.rate === undefined ? {} : { rate: options.rate }),
            ...(options.canary === undefined ? {} : { canary: options.canary }),
            ...(options.attempts === undefined ? {} : { maxAttempts: options.attempts }),
            ...(options.retryDelay === undefined ? {} : { retryDelayMs: options.retryDelay }),
          });
        } finally {
          bar.stop();
          sender.close();
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
        process.stderr.write(describeTally(incident.ref, tally));
        if (options.format === 'json')
          process.stdout.write(`${JSON.stringify({ ref: incident.ref, ...tally })}\n`);
      });
      result.exitCode = 0;
    });
}
