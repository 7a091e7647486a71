import { Command, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { UsageError } from '../core/errors.js';
import { sanitizeText } from '../core/redact.js';
import { isLoopbackHost, parseBaseUrl, startLookupServer } from '../server/lookup-server.js';
import { parseListenAddress } from '../watch/metrics-server.js';
import { parsePositiveInt } from './parse-options.js';
import type { CommandResult } from './scan-command.js';
import { withStore } from './incident-command.js';
import { untilStopped } from './watch-command.js';

const examples = `
Examples:
  $ leakwatch serve --smtp smtp://127.0.0.1:25 --from privacy@example.com
  $ leakwatch serve --listen 0.0.0.0:8080 --public --base-url https://am-i-affected.example.com \\
      --smtp smtps://user:pass@mail.example.com --from privacy@example.com

A person enters an email address and always gets the same answer; only when the address belongs to
someone in an open incident does a one-time link (valid 24 hours) go to that mailbox. The link shows
which of that person's data was exposed and what to do. Put it behind a TLS proxy and give the public
https address as --base-url. Stop with Ctrl-C.`;

function checkSmtpUrl(text: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError('--smtp is not a URL (expected smtp://host:port or smtps://host:port)');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new UsageError(`--smtp must be smtp:// or smtps://, not ${sanitizeText(url.protocol)}`);
  }
  if (url.hostname === '') throw new UsageError('--smtp names no host');
}

/** `leakwatch serve`: the "Am I affected?" page for the people of open incidents. */
export function serveCommand(result: CommandResult): CommandUnknownOpts {
  return new Command('serve')
    .summary('serve the "Am I affected?" page')
    .description(
      'Serve a page where people check whether their data was exposed. Answers go only to the ' +
        'mailbox asked about, as one-time links; the page answers everyone alike.',
    )
    .option('--listen <host:port>', 'address to listen on (loopback unless --public)', '127.0.0.1:8080')
    .option('--public', 'allow listening on a non-loopback address: the page is for the public')
    .option('--base-url <url>', 'the address people reach the page at (mailed links point there)')
    .requiredOption('--smtp <url>', 'SMTP relay for the links: smtp://host:port or smtps://…')
    .requiredOption('--from <address>', 'sender of the link emails')
    .option('--store <path|url>', 'state: a directory (default ./.leakwatch) or postgres://…')
    .option(
      '--lookups-per-minute <n>',
      'lookups per client address per minute',
      parsePositiveInt(100_000_000),
      10,
    )
    .option('--mails-per-hour <n>', 'lookups per email address per hour', parsePositiveInt(100_000_000), 3)
    .addHelpText('after', examples)
    .action(async (options) => {
      // Refuse a bad bind before the store opens, which can take a while.
      const listen = parseListenAddress(options.listen);
      if (!isLoopbackHost(listen.host) && options.public !== true) {
        throw new UsageError(
          `refusing to listen on ${listen.host}: the page would be reachable from other machines; add --public if that is what you want`,
        );
      }
      if (options.baseUrl !== undefined) parseBaseUrl(options.baseUrl);
      checkSmtpUrl(options.smtp);
      if (!/^[^\s@<>",;]+@[^\s@<>",;]+$/.test(options.from)) {
        throw new UsageError('--from is not an email address');
      }
      await withStore(options.store, 'serve', async (store) => {
        const server = await startLookupServer({
          store,
          listen: options.listen,
          public: options.public === true,
          ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl }),
          smtp: options.smtp,
          from: options.from,
          limits: { lookupsPerMinute: options.lookupsPerMinute, mailsPerHour: options.mailsPerHour },
        });
        const why = await untilStopped(undefined);
        process.stderr.write(`lookup: stopping (${why})\n`);
        await server.close();
      });
      result.exitCode = 0;
    });
}
