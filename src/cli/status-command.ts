import { Command, Option, type CommandUnknownOpts } from '@commander-js/extra-typings';
import Table from 'cli-table3';
import pc from 'picocolors';
import { UsageError } from '../core/errors.js';
import { sanitizeText } from '../core/redact.js';
import { renderHtmlReport } from '../report/html-report.js';
import { formatDuration } from '../core/duration.js';
import { describeExposure } from '../watch/describe-event.js';
import { storeHistory, storeStatuses, type StoreHistory, type StoreStatus } from '../watch/status-view.js';
import type { CommandResult } from './scan-command.js';
import { readFromStore } from './store-access.js';
import { writeOutput } from './write-output.js';

const statePaint: Record<string, (text: string) => string> = {
  open: (t) => pc.bold(pc.red(t)),
  protected: pc.green,
  unreachable: pc.yellow,
  error: pc.yellow,
  unknown: pc.dim,
};

function ago(iso: string | undefined, now: number): string {
  if (iso === undefined) return '';
  return `${formatDuration(Math.max(0, now - Date.parse(iso)))} ago`;
}

function statusTable(statuses: readonly StoreStatus[]): string {
  const now = Date.now();
  const table = new Table({
    head: ['store', 'target', 'state', 'since', 'last probe', 'exposed', 'people'],
    style: { head: [], border: [] },
  });
  for (const s of statuses) {
    const paint = statePaint[s.state] ?? ((t: string) => t);
    const exposed =
      s.exposureWindow === undefined
        ? ''
        : `${s.exposureWindow.closedAt === undefined ? 'open ' : ''}${formatDuration(s.exposureWindow.durationMs)}`;
    table.push([
      sanitizeText(s.name, 40) + (s.watched ? '' : pc.dim(' (not watched)')),
      sanitizeText(s.target, 50),
      paint(s.state),
      ago(s.since, now),
      s.lastProbeAt === undefined
        ? 'never'
        : `${ago(s.lastProbeAt, now)}${s.probeMs === undefined ? '' : ` (${s.probeMs} ms)`}`,
      exposed,
      s.exposure === undefined ? '' : s.exposure.subjects.total.toLocaleString('en-US'),
    ]);
  }
  const open = statuses.filter((s) => s.state === 'open').length;
  return `${table.toString()}\n${statuses.length} store(s), ${open} open\n`;
}

function historyText(history: StoreHistory): string {
  const lines: string[] = [];
  const s = history.store;
  lines.push(
    `${sanitizeText(s.name)}  ${sanitizeText(s.target)}  state: ${s.state}${s.since === undefined ? '' : ` since ${s.since}`}`,
  );
  const exposure = describeExposure(s.exposure);
  if (exposure !== undefined) lines.push(`Exposes: ${exposure}`);
  lines.push('', `Exposure windows (${history.windows.length}):`);
  for (const w of history.windows) {
    lines.push(
      `  opened ${w.openedAt}${w.openedAfter === undefined ? ' (open when first watched)' : ` (protected at ${w.openedAfter})`}` +
        ` -> ${w.closedAt === undefined ? 'still open' : `closed ${w.closedAt}`}  ${formatDuration(w.durationMs)}`,
    );
  }
  lines.push('', `Events (${history.events.length}):`);
  for (const e of history.events)
    lines.push(
      `  ${e.at}  ${e.kind.padEnd(15)} ${e.fromState} -> ${e.toState}  ${sanitizeText(e.detail, 120)}`,
    );
  if (history.fields.length > 0) {
    lines.push('', 'Fields with personal data (latest classification):');
    for (const f of history.fields) {
      lines.push(
        `  ${sanitizeText(`${f.collection}.${f.path}`, 60)}  ${f.categories.join(', ')}  ${f.subjects.toLocaleString('en-US')} people`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

const formatOption = () =>
  new Option('-f, --format <format>', 'table or json')
    .choices(['table', 'json'] as const)
    .default('table' as const);

const historyFormatOption = () =>
  new Option('-f, --format <format>', 'table, json or html (a self-contained page with the timeline)')
    .choices(['table', 'json', 'html'] as const)
    .default('table' as const);

/** `leakwatch status`: every watched store and its state. */
export function statusCommand(result: CommandResult): CommandUnknownOpts {
  return new Command('status')
    .summary('show every watched store, its state and exposure')
    .addOption(formatOption())
    .option('--store <path|url>', 'state: a directory (default ./.leakwatch) or postgres://…')
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .action(async (options) => {
      const statuses =
        (await readFromStore(options.store, 'status', (store) => storeStatuses(store), '/api/status')) ?? [];
      const text =
        options.format === 'json' ? `${JSON.stringify(statuses, null, 2)}\n` : statusTable(statuses);
      if (options.output === undefined) process.stdout.write(text);
      else await writeOutput(options.output, text);
      // Like `scan --fail-on`: scripts can ask "is anything open?" by the exit code.
      result.exitCode = statuses.some((s) => s.state === 'open' && s.watched) ? 1 : 0;
    });
}

/** `leakwatch history TARGET`: one store's events and exposure windows. */
export function historyCommand(result: CommandResult): CommandUnknownOpts {
  return new Command('history')
    .summary("show one store's timeline: events and exposure windows")
    .argument('<store>', 'its name or target, as in leakwatch status')
    .addOption(historyFormatOption())
    .option('--store <path|url>', 'state: a directory (default ./.leakwatch) or postgres://…')
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .action(async (name, options) => {
      const history = await readFromStore(
        options.store,
        'history',
        (store) => storeHistory(store, name),
        `/api/history?store=${encodeURIComponent(name)}`,
      );
      if (history === undefined) {
        throw new UsageError(`no watched store named "${sanitizeText(name)}" (see leakwatch status)`);
      }
      const text =
        options.format === 'json'
          ? `${JSON.stringify(history, null, 2)}\n`
          : options.format === 'html'
            ? renderHtmlReport({
                title: `Leakwatch history: ${history.store.name}`,
                generatedAt: new Date().toISOString(),
                histories: [history],
              })
            : historyText(history);
      if (options.output === undefined) process.stdout.write(text);
      else await writeOutput(options.output, text);
      result.exitCode = 0;
    });
}
