import { Command, Option, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { UsageError } from '../core/errors.js';
import { sanitizeText } from '../core/redact.js';
import { parseDuration } from '../core/duration.js';
import {
  jurisdictions as knownJurisdictions,
  parseIncidentRef,
  type IncidentFacts,
  type IncidentRecord,
  type Jurisdiction,
} from '../incident/incident.js';
import {
  addDecision,
  appendTimeline,
  closeIncident,
  listIncidents,
  loadIncident,
  updateFacts,
} from '../incident/incident-store.js';
import { openIncident } from '../incident/open-incident.js';
import type { Store } from '../store/store.js';
import { formatDuration } from '../core/duration.js';
import type { CommandResult } from './scan-command.js';
import { openStore } from './store-access.js';

const formatOption = () =>
  new Option('-f, --format <format>', 'text or json')
    .choices(['text', 'json'] as const)
    .default('text' as const);
const storeOption = () =>
  new Option('--store <path|url>', 'state: a directory (default ./.leakwatch) or postgres://…');

export async function withStore<T>(
  spec: string | undefined,
  command: string,
  work: (store: Store) => Promise<T>,
): Promise<T> {
  const store = await openStore(spec, command);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

export async function requireIncident(store: Store, text: string): Promise<IncidentRecord> {
  const id = parseIncidentRef(text);
  const incident = id === undefined ? undefined : await loadIncident(store, id);
  if (incident === undefined)
    throw new UsageError(`no incident "${sanitizeText(text)}" (leakwatch incident list)`);
  return incident;
}

function parseJurisdictions(text: string): Jurisdiction[] {
  const list = text.split(',').map((s) => s.trim().toLowerCase());
  for (const j of list) {
    if (!(knownJurisdictions as readonly string[]).includes(j)) {
      throw new UsageError(`unknown jurisdiction "${j}": use ${knownJurisdictions.join(', ')}`);
    }
  }
  return list as Jurisdiction[];
}

function parseTime(text: string): Date {
  const ms = Date.parse(text);
  if (Number.isNaN(ms))
    throw new UsageError(`invalid time "${text}": use ISO 8601, e.g. 2026-11-21T22:00:00Z`);
  return new Date(ms);
}

const factKeys = [
  'controller',
  'dpoContact',
  'contactPoint',
  'consequences',
  'measuresTaken',
  'measuresProposed',
  'adviceToIndividuals',
] as const;

function parseFact(value: string, previous: IncidentFacts | undefined): IncidentFacts {
  const eq = value.indexOf('=');
  const key = value.slice(0, eq);
  if (eq < 1) throw new UsageError(`--set needs KEY=VALUE, e.g. --set dpoContact="dpo@example.com"`);
  const text = value.slice(eq + 1);
  const facts: Record<string, unknown> = { ...previous };
  if (key === 'lawEnforcementDelay') facts[key] = text === 'true' || text === 'yes';
  else facts[key] = text;
  return facts;
}

export function describeIncident(incident: IncidentRecord): string {
  const now = Date.now();
  const lines: string[] = [];
  lines.push(
    `${incident.ref}  ${incident.status.toUpperCase()}  ${sanitizeText(incident.store.name)} (${sanitizeText(incident.store.target)})`,
  );
  const w = incident.window;
  lines.push(
    `Exposure: ${w.openedAfter === undefined ? 'open when first watched' : `after ${w.openedAfter}`}, seen open ${w.openedAt}` +
      ` -> ${w.closedAt === undefined ? 'STILL OPEN' : `protected ${w.closedAt}`} (${formatDuration(w.durationMs)})`,
  );
  lines.push(
    `Detected ${incident.detectedAt}; aware ${incident.awareAt}${incident.containedAt === undefined ? '' : `; contained ${incident.containedAt}`}`,
  );
  const per = Object.entries(incident.subjects.byCategory)
    .sort((a, b) => b[1] - a[1])
    .map(([c, n]) => `${c} ${n.toLocaleString('en-US')}`)
    .join(', ');
  lines.push(
    `People: ${incident.subjects.total.toLocaleString('en-US')} (${incident.reachable.toLocaleString('en-US')} with a contact address): ${per}`,
  );
  lines.push('', 'Deadlines:');
  for (const d of incident.deadlines) {
    const due =
      d.dueAt === undefined
        ? d.rule
        : `${d.dueAt} (${Date.parse(d.dueAt) < now ? 'OVERDUE' : `in ${formatDuration(Date.parse(d.dueAt) - now)}`})`;
    lines.push(
      `  ${d.doneAt === undefined ? '[ ]' : '[x]'} ${d.law}: ${d.audience}, ${due}${d.condition === undefined ? '' : `; ${d.condition}`}`,
    );
  }
  lines.push('', 'Timeline:');
  for (const t of incident.timeline)
    lines.push(`  ${t.at}  ${t.kind.padEnd(16)} ${sanitizeText(t.detail, 160)}`);
  if (incident.decisions.length > 0) {
    lines.push('', 'Decisions:');
    for (const d of incident.decisions)
      lines.push(
        `  ${d.at}  ${sanitizeText(d.decision)}: ${sanitizeText(d.rationale)}${d.by === undefined ? '' : ` (${sanitizeText(d.by)})`}`,
      );
  }
  return `${lines.join('\n')}\n`;
}

/** `leakwatch incident open|show|list|close|note|decide|facts`. */
export function incidentCommand(result: CommandResult): CommandUnknownOpts {
  const incident = new Command('incident').summary('open and track an incident for a measured exposure');

  incident
    .command('open')
    .description(
      "Open an incident for the target's latest exposure window: re-read the store read-only to list every " +
        'distinct person and the categories of their data, and compute the legal deadlines.',
    )
    .requiredOption(
      '--target <target>',
      'the watched store (name or target; name credentials if it is protected again)',
    )
    .option(
      '--aware-at <time>',
      'when the organisation became aware (default: now); starts the 72 hours',
      parseTime,
    )
    .option(
      '--jurisdiction <list>',
      `comma-separated: ${knownJurisdictions.join(', ')} (default: gdpr,us-ca; +hipaa,ftc-hbnr with health data)`,
      parseJurisdictions,
    )
    .option('--read-timeout <duration>', 'deadline of the full re-read (default 30m)', (v) =>
      parseDuration(v),
    )
    .addOption(storeOption())
    .addOption(formatOption())
    .action(async (options) => {
      await withStore(options.store, 'incident', async (store) => {
        const opened = await openIncident(store, {
          target: options.target,
          ...(options.awareAt === undefined ? {} : { awareAt: options.awareAt }),
          ...(options.jurisdiction === undefined ? {} : { jurisdictions: options.jurisdiction }),
          ...(options.readTimeout === undefined ? {} : { readTimeoutMs: options.readTimeout }),
          ...(process.stderr.isTTY
            ? {
                onRecords: (records: number) => {
                  process.stderr.write(
                    `\rleakwatch: re-reading the store: ${records.toLocaleString('en-US')} records`,
                  );
                },
              }
            : {}),
        });
        if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
        const record = await loadIncident(store, opened.id);
        if (record === undefined) throw new Error('the incident just opened is missing');
        if (!opened.created)
          process.stderr.write(`leakwatch: ${record.ref} is already open for this exposure window\n`);
        if (options.format === 'json') {
          process.stdout.write(
            `${JSON.stringify({ id: record.id, ref: record.ref, window: record.window, subjects: record.subjects })}\n`,
          );
        } else {
          process.stdout.write(describeIncident(record));
        }
      });
      result.exitCode = 0;
    });

  incident
    .command('show')
    .argument('<id>', 'incident id or ref (INC-0001)')
    .addOption(storeOption())
    .addOption(formatOption())
    .action(async (id, options) => {
      await withStore(options.store, 'incident', async (store) => {
        const record = await requireIncident(store, id);
        process.stdout.write(
          options.format === 'json' ? `${JSON.stringify(record, null, 2)}\n` : describeIncident(record),
        );
      });
      result.exitCode = 0;
    });

  incident
    .command('list')
    .addOption(storeOption())
    .addOption(formatOption())
    .action(async (options) => {
      await withStore(options.store, 'incident', async (store) => {
        const list = await listIncidents(store);
        if (options.format === 'json') process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        else {
          for (const i of list) {
            process.stdout.write(
              `${i.ref}  ${i.status.padEnd(6)}  ${sanitizeText(i.store).padEnd(30)}  aware ${i.awareAt}  ${i.people.toLocaleString('en-US')} people\n`,
            );
          }
          if (list.length === 0) process.stdout.write('no incidents\n');
        }
      });
      result.exitCode = 0;
    });

  incident
    .command('close')
    .argument('<id>', 'incident id or ref')
    .option('--reason <text>', 'why it is closed', 'response complete')
    .addOption(storeOption())
    .action(async (id, options) => {
      await withStore(options.store, 'incident', async (store) => {
        const record = await requireIncident(store, id);
        if (record.status === 'closed') throw new UsageError(`${record.ref} is already closed`);
        const purged = await closeIncident(store, record.id, options.reason);
        process.stderr.write(
          `leakwatch: ${record.ref} closed; sealed contact data of ${purged} people purged\n`,
        );
      });
      result.exitCode = 0;
    });

  incident
    .command('note')
    .argument('<id>', 'incident id or ref')
    .argument('<text>', 'what happened, for the timeline')
    .option('--contained', 'record that the exposure is contained')
    .addOption(storeOption())
    .action(async (id, text, options) => {
      await withStore(options.store, 'incident', async (store) => {
        const record = await requireIncident(store, id);
        await appendTimeline(store, record.id, options.contained === true ? 'contained' : 'note', text);
      });
      result.exitCode = 0;
    });

  incident
    .command('decide')
    .argument('<id>', 'incident id or ref')
    .requiredOption('--decision <text>', 'e.g. "notify individuals under Art. 34"')
    .requiredOption('--rationale <text>', 'why')
    .option('--by <name>', 'who decided')
    .addOption(storeOption())
    .action(async (id, options) => {
      await withStore(options.store, 'incident', async (store) => {
        const record = await requireIncident(store, id);
        await addDecision(store, record.id, {
          decision: options.decision,
          rationale: options.rationale,
          ...(options.by === undefined ? {} : { by: options.by }),
        });
      });
      result.exitCode = 0;
    });

  incident
    .command('facts')
    .description(
      `Record what notices need and measurement cannot tell: ${factKeys.join(', ')}, lawEnforcementDelay.`,
    )
    .argument('<id>', 'incident id or ref')
    .option('--set <key=value>', 'a fact; repeatable', parseFact)
    .addOption(storeOption())
    .action(async (id, options) => {
      await withStore(options.store, 'incident', async (store) => {
        const record = await requireIncident(store, id);
        if (options.set === undefined) {
          process.stdout.write(`${JSON.stringify(record.facts, null, 2)}\n`);
          return;
        }
        await updateFacts(store, record.id, options.set);
      });
      result.exitCode = 0;
    });

  return incident;
}
