import { Command, Option, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { SingleBar } from 'cli-progress';
import { parseDuration } from '../core/duration.js';
import { UsageError } from '../core/errors.js';
import { sanitizeText } from '../core/redact.js';
import {
  listRevocationBatches,
  maxBatchSize,
  retryFailedBatches,
  revocationActions,
  revocationDefaults,
  runRevocation,
  type RevocationBatch,
  type RevocationProgress,
  type RevocationTally,
} from '../incident/revoke.js';
import { exitCodes } from './exit-codes.js';
import { requireIncident, withStore } from './incident-command.js';
import { parsePositiveNumber } from './parse-options.js';
import type { CommandResult } from './scan-command.js';

const secretEnv = 'LEAKWATCH_REVOKE_SECRET';

/** A bar on stderr when it is a terminal (stdout carries reports only); silent otherwise. */
function createRevocationBar(): { update(p: RevocationProgress): void; stop(): void } {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar({
    stream: process.stderr,
    format: 'revoking [{bar}] {value}/{total} batches | {action}',
    hideCursor: true,
    clearOnComplete: true,
    barsize: 30,
  });
  let running = false;
  return {
    update(p) {
      if (!running) {
        bar.start(p.total, p.done, { action: p.action });
        running = true;
      }
      bar.update(p.done, { action: p.action });
    },
    stop() {
      // A note stops the bar so its line stays readable; the next update draws a fresh one.
      if (running) bar.stop();
      running = false;
    },
  };
}

function describeTally(tally: RevocationTally, interrupted: boolean): string {
  // Resent batches were reported as they went out (runRevocation's notes).
  const run = tally.thisRun;
  const lines = [
    `leakwatch: ${tally.incident} ${tally.action} to ${sanitizeText(tally.hook)}: ${tally.batches} batches of ` +
      `${tally.subjects} people: sent ${tally.sent} (${tally.subjectsAcknowledged} people acknowledged), ` +
      `failed ${tally.failed}, pending ${tally.pending} (this run: sent ${run.sent}, failed ${run.failed}, ` +
      `retries ${run.retries})`,
  ];
  if (tally.unidentified > 0)
    lines.push(
      `leakwatch: ${tally.unidentified} people were named by no identifier in the data and cannot be revoked`,
    );
  if (interrupted && tally.pending > 0)
    lines.push(`leakwatch: interrupted; run the same command again to continue (${tally.pending} pending)`);
  if (tally.failed > 0)
    lines.push(
      `leakwatch: ${tally.failed} batch(es) failed permanently: see leakwatch revoke ${tally.incident} --receipts; ` +
        'after fixing the application, rerun with --retry-failed',
    );
  return `${lines.join('\n')}\n`;
}

function describeBatches(batches: readonly RevocationBatch[]): string {
  if (batches.length === 0) return 'no revocation batches planned\n';
  const lines = batches.map((b) => {
    const answer =
      b.receipt === undefined
        ? ''
        : ` HTTP ${b.receipt.status}${b.receipt.id === undefined ? '' : ` id=${sanitizeText(b.receipt.id, 80)}`} at ${b.receipt.at}`;
    const error =
      b.status !== 'sent' && b.lastError !== undefined ? `  (${sanitizeText(b.lastError, 120)})` : '';
    return (
      `${b.action.padEnd(24)} ${String(b.batch).padStart(5)}  ${b.status.padEnd(7)} ` +
      `${String(b.size).padStart(6)} people  ${b.attempts} attempt(s)  ${b.webhookId}${answer}${error}`
    );
  });
  return `${lines.join('\n')}\n`;
}

/** `leakwatch revoke ID --hook URL --secret S --action A [--batch N] [--rate N] [--receipts]`. */
export function revokeCommand(result: CommandResult): CommandUnknownOpts {
  return new Command('revoke')
    .summary("ask the application to revoke affected people's sessions, tokens or integrations")
    .description(
      'POST the identifiers of the affected people, in batches, to the application that owns their ' +
        'accounts, signed as Standard Webhooks. Each batch has a stable webhook-id (lw-rev-<incident>-' +
        '<action>-<batch>) that the application deduplicates on. Resumable: run the same command again ' +
        'after an interruption; sent batches are never resent, except the one in flight when a run ' +
        'died (same webhook-id). 408/429/5xx and network errors are retried with backoff (Retry-After ' +
        'honoured), other 4xx fail that batch. Exit code 1 when a batch failed.',
    )
    .argument('<id>', 'incident id or ref (INC-0001)')
    .option('--hook <url>', 'the application endpoint: https://…, or http:// on loopback')
    .option(
      '--secret <whsec>',
      `signing secret whsec_<base64> (better: the ${secretEnv} environment variable)`,
    )
    .addOption(new Option('--action <action>', 'what the application should do').choices(revocationActions))
    .option(
      '--batch <n>',
      `people per batch, for batches not yet planned (default ${revocationDefaults.batchSize}, at most ${maxBatchSize})`,
      parsePositiveNumber(true),
    )
    .option('--rate <n>', 'batches per second at most', parsePositiveNumber(false))
    .option(
      '--attempts <n>',
      `attempts per batch before it fails (default ${revocationDefaults.maxAttempts})`,
      parsePositiveNumber(true),
    )
    .option(
      '--retry-delay <duration>',
      `first retry delay, doubled per attempt (default ${revocationDefaults.backoffMs / 1000}s)`,
      (v) => parseDuration(v),
    )
    .option('--timeout <duration>', 'per request (default 30s)', (v) => parseDuration(v))
    .option('--retry-failed', 'make batches that failed permanently pending again, then send')
    .option('--receipts', 'list the planned batches with status, attempts and receipts; send nothing')
    .option('--store <path|url>', 'state: a directory (default ./.leakwatch) or postgres://…')
    .addOption(
      new Option('-f, --format <format>', 'text or json (the tally or receipt log on stdout)')
        .choices(['text', 'json'] as const)
        .default('text' as const),
    )
    .action(async (id, options) => {
      let exitCode: number = exitCodes.ok;
      await withStore(options.store, 'revoke', async (store) => {
        const incident = await requireIncident(store, id);
        if (options.receipts === true) {
          const batches = await listRevocationBatches(store, incident.id, options.action);
          process.stdout.write(
            options.format === 'json'
              ? `${JSON.stringify({ incident: incident.ref, batches }, null, 2)}\n`
              : describeBatches(batches),
          );
          return;
        }
        if (options.action === undefined)
          throw new UsageError(`revoke needs --action (${revocationActions.join(', ')})`);
        if (options.hook === undefined) throw new UsageError('revoke needs --hook URL');
        const secret = options.secret ?? process.env[secretEnv];
        if (secret === undefined || secret === '')
          throw new UsageError(`revoke needs --secret whsec_… or the ${secretEnv} environment variable`);
        if (incident.status === 'closed')
          throw new UsageError(
            `${incident.ref} is closed: the identifiers of its people were purged, so nothing can be revoked`,
          );
        if (options.retryFailed === true) {
          const reset = await retryFailedBatches(store, incident.id, options.action);
          process.stderr.write(`leakwatch: ${reset} failed batch(es) made pending again\n`);
        }

        const stop = new AbortController();
        const onSignal = (): void => {
          process.stderr.write('leakwatch: stopping after the batch in flight\n');
          stop.abort();
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        const bar = createRevocationBar();
        let tally: RevocationTally;
        try {
          tally = await runRevocation(store, incident, {
            action: options.action,
            url: options.hook,
            secret,
            signal: stop.signal,
            onProgress: (p) => {
              bar.update(p);
            },
            onNote: (text) => {
              bar.stop();
              process.stderr.write(`leakwatch: ${text}\n`);
            },
            ...(options.batch === undefined ? {} : { batchSize: options.batch }),
            ...(options.rate === undefined ? {} : { ratePerSecond: options.rate }),
            ...(options.attempts === undefined ? {} : { maxAttempts: options.attempts }),
            ...(options.retryDelay === undefined ? {} : { backoffMs: options.retryDelay }),
            ...(options.timeout === undefined ? {} : { timeoutMs: options.timeout }),
          });
        } finally {
          bar.stop();
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
        process.stderr.write(describeTally(tally, stop.signal.aborted));
        if (options.format === 'json') process.stdout.write(`${JSON.stringify(tally)}\n`);
        else
          process.stdout.write(
            `${tally.incident} ${tally.action}: ${tally.sent} sent, ${tally.failed} failed, ${tally.pending} pending of ${tally.batches} batches\n`,
          );
        // A failed batch leaves accounts unrevoked: scripts must notice (the same code as findings).
        if (tally.failed > 0) exitCode = exitCodes.findings;
      });
      result.exitCode = exitCode;
    });
}
