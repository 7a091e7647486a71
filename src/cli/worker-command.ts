import { Command, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { UsageError } from '../core/errors.js';
import { parseStoreLocation } from '../store/store.js';
import { collectList, parseDurationOption, parsePositiveInt } from './parse-options.js';
import type { CommandResult } from './scan-command.js';
import { openStore } from './store-access.js';
import { resolveWatchSetup, runWatcher } from './watch-command.js';

const examples = `
Examples:
  $ leakwatch watch --config leakwatch.yaml --store postgres://leakwatch@db:5432/leakwatch   # registers stores
  $ leakwatch worker --config leakwatch.yaml --store postgres://leakwatch@db:5432/leakwatch  # on every machine

Workers share the probe schedule through pg-boss in the store's database: each store's next probe is
one queued job, taken by whichever worker is free. A worker that dies mid-probe loses no store: its
job expires and another worker takes it, and every worker re-queues stores whose probes stopped.
Alert channels come from --config or the flags, as for watch; each worker delivers the alerts of the
channels it knows.`;

/** `leakwatch worker`: probes stores from the schedule shared on a PostgreSQL store. */
export function workerCommand(result: CommandResult): CommandUnknownOpts {
  return new Command('worker')
    .summary('probe watched stores from a schedule shared with other workers (PostgreSQL store)')
    .option('--store <url>', 'postgres://… store that watch registered the stores in (or LEAKWATCH_STORE)')
    .option(
      '-c, --config <file>',
      'leakwatch.yaml for alert channels and settings (its stores are not registered)',
    )
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
    .option('--webhook <url>', 'signed webhook channel; repeatable', collectList)
    .option('--webhook-secret <secret>', 'whsec_… signing secret (or LEAKWATCH_WEBHOOK_SECRET)')
    .option('--slack-webhook <url>', 'Slack-compatible incoming webhook; repeatable', collectList)
    .option('--email-to <addr>', 'email each event to ADDR; repeatable (needs --smtp)', collectList)
    .option('--email-from <addr>', 'sender of alert emails', 'leakwatch@localhost')
    .option('--smtp <url>', 'smtp://host:port for --email-to')
    .option('--metrics <host:port>', 'serve Prometheus /metrics there')
    .option('--for <duration>', 'stop after this long (default: until Ctrl-C)', parseDurationOption)
    .option('--json', 'print events this worker records as JSON lines on stdout')
    .option('-q, --quiet', 'no notes on stderr')
    .addHelpText('after', examples)
    .action(async (options) => {
      const location = parseStoreLocation(options.store);
      if (location.kind !== 'postgres') {
        throw new UsageError(
          'worker needs a shared store: --store postgres://user@host:port/db (an embedded store has one watch process)',
        );
      }
      const setup = await resolveWatchSetup(options);
      const store = await openStore(options.store, 'worker');
      try {
        await runWatcher(store, setup, {
          json: options.json === true,
          quiet: options.quiet === true,
          forMs: options.for,
          localStoreIds: [],
        });
      } finally {
        await store.close();
      }
      result.exitCode = 0;
    });
}
