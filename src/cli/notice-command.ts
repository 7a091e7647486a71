import { Command, Option, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { appendTimeline } from '../incident/incident-store.js';
import { draftNotice, noticeKinds } from '../incident/notice.js';
import { renderNotice } from '../incident/notice-render.js';
import { requireIncident, withStore } from './incident-command.js';
import type { CommandResult } from './scan-command.js';
import { writeOutput } from './write-output.js';

const examples = `
Kinds:
  gdpr-33   to the supervisory authority (GDPR Art. 33(3): nature, DPO contact, consequences, measures)
  gdpr-34   to each affected person (Art. 34); notify fills in each person's own categories
  us-ca     "Notice of Data Breach" with California's five headings (Civ. Code §1798.82(d))
  hipaa     to individuals (45 CFR §164.404(c))

Examples:
  $ leakwatch notice INC-0001 --kind gdpr-33 --format html --output gdpr-33.html
  $ leakwatch incident facts INC-0001 --set dpoContact="dpo@example.com" --set consequences="…"

The draft carries the measured numbers and dates; what measurement cannot tell is listed under
"Still missing" (and on stderr) until recorded with leakwatch incident facts.`;

/** `leakwatch notice ID --kind …`: drafts a legal notice from the measured incident. */
export function noticeCommand(result: CommandResult): CommandUnknownOpts {
  return new Command('notice')
    .summary('draft a breach notice (GDPR 33/34, California, HIPAA) with the measured numbers')
    .argument('<id>', 'incident id or ref (INC-0001)')
    .addOption(new Option('--kind <kind>', 'which notice').choices(noticeKinds).makeOptionMandatory())
    .addOption(
      new Option('-f, --format <format>', 'markdown or html')
        .choices(['markdown', 'html'] as const)
        .default('markdown' as const),
    )
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .option('--store <path|url>', 'state: a directory (default ./.leakwatch) or postgres://…')
    .option('-q, --quiet', 'do not list missing facts on stderr')
    .addHelpText('after', examples)
    .action(async (id, options) => {
      await withStore(options.store, 'notice', async (store) => {
        const incident = await requireIncident(store, id);
        const draft = draftNotice(incident, options.kind);
        const text = renderNotice(draft, options.format);
        if (options.output === undefined) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
        else await writeOutput(options.output, text);
        await appendTimeline(
          store,
          incident.id,
          'notice-drafted',
          `${options.kind} notice drafted (${options.format})`,
        );
        if (options.quiet !== true && draft.missing.length > 0) {
          process.stderr.write(
            `leakwatch: still missing for ${options.kind}: ${draft.missing.map((m) => m.field).join(', ')}\n`,
          );
        }
      });
      result.exitCode = 0;
    });
}
