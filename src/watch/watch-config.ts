import { readFile } from 'node:fs/promises';
import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import { parseListenAddress } from './metrics-server.js';
import { UsageError } from '../core/errors.js';
import { parseTarget, type TargetSpec } from '../core/parse-target.js';

/*
 * The `watch` configuration file (leakwatch.yaml). The zod schema is the one source: the parsed
 * config, the committed JSON Schema (schema/watch-config.schema.json) and the Markdown reference
 * (docs/config-reference.md) all come from it, and tests fail when the committed copies drift.
 */

const second = 1000;
// setTimeout fires at once beyond 2^31-1 ms (~24.8 days); a day is already far past any sane interval.
const maxDurationMs = 24 * 3_600_000;

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % second === 0) return `${ms / second}s`;
  return `${ms}ms`;
}

/** `500ms`, `5s`, `2m`, `1h` or a number of seconds, parsed into milliseconds. */
function duration(description: string, minMs: number) {
  return z
    .union(
      [
        // The pattern mirrors parseDuration's so editors using the JSON Schema flag what it would reject.
        z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)?$/, {
          error: 'invalid duration: use a number with ms, s, m or h, e.g. 5s or 500ms',
        }),
        z.number().positive({ error: 'a duration in seconds must be positive' }),
      ],
      { error: 'expected a duration such as 5s, 500ms, 2m, 1h, or a number of seconds' },
    )
    .transform((value, ctx) => {
      let ms: number;
      try {
        ms = typeof value === 'number' ? Math.round(value * second) : parseDuration(value);
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        ctx.addIssue({ code: 'custom', message: error.message });
        return z.NEVER;
      }
      if (ms < minMs) {
        ctx.addIssue({ code: 'custom', message: `must be at least ${formatMs(minMs)}` });
        return z.NEVER;
      }
      if (ms > maxDurationMs) {
        ctx.addIssue({ code: 'custom', message: `must be at most ${formatMs(maxDurationMs)}` });
        return z.NEVER;
      }
      return ms;
    })
    .meta({ description: `${description} A duration (500ms, 5s, 2m, 1h) or a number of seconds.` });
}

/** Throws the UsageError of parseTarget, or one for targets that are not a single service. */
function checkWatchTarget(text: string): TargetSpec {
  const spec = parseTarget(text);
  if (spec.prefixLength !== undefined) {
    throw new UsageError(`"${spec.display}" is a network range: a watched store is one address, list each`);
  }
  if (spec.protocol === undefined) {
    throw new UsageError(
      `target "${spec.display}" needs a protocol, e.g. redis://${spec.display}: a watched store is one service`,
    );
  }
  return spec;
}

// Standard Webhooks: `whsec_` then the base64 of the key; the spec asks for 24 to 64 random bytes.
const webhookSecretHint =
  'must be "whsec_" followed by base64 of at least 24 random bytes, e.g. "whsec_" + `openssl rand -base64 32`';

function isWebhookSecret(value: string): boolean {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(value);
  const base64 = match?.[1];
  return base64 !== undefined && base64.length % 4 === 0 && Buffer.from(base64, 'base64').length >= 24;
}

const httpUrl = (description: string) =>
  z
    .url({ protocol: /^https?$/, error: 'use an http:// or https:// URL' })
    .meta({ description, examples: ['http://127.0.0.1:8080/hooks/leakwatch'] });

const storeSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[^\p{Cc}]+$/u, { error: 'must not contain control characters' })
      .optional()
      .meta({
        description:
          'Unique name of the store, used in alerts and metrics. Defaults to the target without credentials.',
      }),
    target: z
      .string()
      .superRefine((text, ctx) => {
        try {
          checkWatchTarget(text);
        } catch (error) {
          if (!(error instanceof UsageError)) throw error;
          ctx.addIssue({ code: 'custom', message: error.message });
        }
      })
      .meta({
        description:
          'The store to watch: PROTOCOL://[user[:password]@]host[:port][/path] (DESIGN.md target grammar). Credentials are used to probe, never printed.',
        examples: ['redis://127.0.0.1:6379'],
      }),
    owner: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'Who answers for this store; included in alerts.' }),
    tags: z
      .array(z.string().min(1).max(64))
      .default([])
      .meta({ description: 'Free-form labels, included in alerts.' }),
    interval: duration(
      'How often this store’s protection is checked; overrides intervals.protection.',
      second,
    ).optional(),
  })
  .strict();

const webhookSchema = z
  .object({
    url: httpUrl('Receives each event as a Standard Webhooks POST.'),
    secret: z
      .string()
      .refine(isWebhookSecret, { error: webhookSecretHint })
      .optional()
      .meta({ description: 'Standard Webhooks signing secret (whsec_ + base64). Prefer secretEnv.' }),
    secretEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
        error: 'must be an environment variable name such as LEAKWATCH_WEBHOOK_SECRET',
      })
      .optional()
      .meta({ description: 'Name of the environment variable holding the signing secret, read at start.' }),
  })
  .strict()
  .superRefine((hook, ctx) => {
    if ((hook.secret === undefined) === (hook.secretEnv === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'set exactly one of secret (whsec_…) or secretEnv (an environment variable name)',
      });
    }
  })
  // zod cannot express "exactly one of" in JSON Schema by itself; editors still deserve the hint.
  .meta({ oneOf: [{ required: ['secret'] }, { required: ['secretEnv'] }] });

const emailSchema = z
  .object({
    to: z
      .array(z.email({ error: 'use an email address such as oncall@example.com' }))
      .min(1, { error: 'add at least one recipient' })
      .meta({ description: 'Recipients of every alert.' }),
    from: z
      .email({ error: 'use an email address such as leakwatch@example.com' })
      .meta({ description: 'Sender address.' }),
    smtp: z
      .url({ protocol: /^smtps?$/, error: 'use an smtp:// or smtps:// URL, e.g. smtp://127.0.0.1:2525' })
      .meta({ description: 'SMTP server URL: smtp://[user:password@]host[:port] or smtps://.' }),
  })
  .strict();

/** The schema of leakwatch.yaml. Objects are strict so a misspelt key is an error, not a silent default. */
export const watchConfigSchema = z
  .object({
    intervals: z
      .object({
        protection: duration(
          'How often each store’s protection is checked (jittered ±20%).',
          second,
        ).prefault('5s'),
        classification: duration(
          'How often an open store is re-sampled; it is also re-sampled after every change.',
          second,
        ).prefault('10m'),
      })
      .strict()
      .prefault({})
      .meta({ description: 'Schedules of the two kinds of check.' }),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(1024)
      .default(32)
      .meta({ description: 'Probes running at once.' }),
    timeout: duration('Time limit of one probe.', 1).prefault('5s'),
    sample: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(1000)
      .meta({ description: 'Records read per collection when classifying an open store.' }),
    metrics: z
      .string()
      .transform((text, ctx) => {
        try {
          return parseListenAddress(text);
        } catch (error) {
          if (!(error instanceof UsageError)) throw error;
          ctx.addIssue({ code: 'custom', message: error.message });
          return z.NEVER;
        }
      })
      .optional()
      .meta({
        description:
          'Listen address of the Prometheus /metrics endpoint (host:port). Off when absent. It has no authentication: keep it on loopback.',
        examples: ['127.0.0.1:9464'],
      }),
    stores: z
      .array(storeSchema)
      .min(1, { error: 'add at least one store, e.g. - target: redis://127.0.0.1:6379' })
      .meta({ description: 'The stores to watch.' }),
    alerts: z
      .object({
        webhooks: z.array(webhookSchema).default([]).meta({ description: 'Standard Webhooks receivers.' }),
        slack: z
          .array(z.object({ url: httpUrl('Slack incoming-webhook URL.') }).strict())
          .default([])
          .meta({ description: 'Slack incoming webhooks.' }),
        email: emailSchema.optional().meta({ description: 'Email alerts over SMTP.' }),
      })
      .strict()
      .prefault({})
      .meta({ description: 'Where events are sent. No channels: events are only recorded.' }),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Map<string, number>();
    config.stores.forEach((store, index) => {
      let name = store.name;
      if (name === undefined) {
        try {
          name = checkWatchTarget(store.target).display;
        } catch {
          return; // the target's own issue says what is wrong
        }
      }
      const first = seen.get(name);
      if (first === undefined) {
        seen.set(name, index);
        return;
      }
      ctx.addIssue({
        code: 'custom',
        path: ['stores', index, store.name === undefined ? 'target' : 'name'],
        message:
          store.name === undefined
            ? `store name "${name}" (from its target) is already used by stores[${first}]: add a unique name`
            : `name "${name}" is already used by stores[${first}]: names must be unique`,
      });
    });
  })
  .meta({
    title: 'Leakwatch watch configuration',
    description:
      'The file `leakwatch watch` reads (leakwatch.yaml). Durations are 500ms, 5s, 2m, 1h or seconds.',
  });

/** What a user may write in leakwatch.yaml. */
export type WatchConfigInput = z.input<typeof watchConfigSchema>;

/** One watched store, with defaults filled. */
export interface WatchedStoreConfig {
  /** Unique; the redacted target when not given. */
  name: string;
  /** As written, credentials included: pass it to probes, never print it. */
  target: string;
  /** `target` parsed; `spec.display` is the printable form and `spec.protocol` is always set. */
  spec: TargetSpec & { protocol: NonNullable<TargetSpec['protocol']> };
  owner?: string;
  tags: string[];
  /** Milliseconds between protection checks: the store's own `interval`, else `intervals.protection`. */
  interval: number;
}

export interface WebhookConfig {
  url: string;
  /** The Standard Webhooks secret (`whsec_…`), read from `secretEnv` at load when given that way. */
  secret: string;
}

export interface EmailAlertConfig {
  to: string[];
  from: string;
  /** `smtp://` or `smtps://` URL, possibly with credentials: never print it. */
  smtp: string;
}

/** A validated leakwatch.yaml: durations in milliseconds, defaults filled, secrets resolved. */
export interface WatchConfig {
  intervals: { protection: number; classification: number };
  concurrency: number;
  /** Milliseconds per probe. */
  timeout: number;
  sample: number;
  metrics?: { host: string; port: number };
  stores: WatchedStoreConfig[];
  alerts: {
    webhooks: WebhookConfig[];
    slack: { url: string }[];
    email?: EmailAlertConfig;
  };
}

/**
 * The signing secret of a webhook: `secret` itself, or the environment variable `secretEnv` names.
 * Throws {@link UsageError} when the variable is unset or does not hold a Standard Webhooks secret.
 */
export function resolveSecret(
  hook: { secret?: string | undefined; secretEnv?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (hook.secret !== undefined) return hook.secret;
  if (hook.secretEnv === undefined) throw new UsageError('set secret or secretEnv');
  const value = env[hook.secretEnv];
  if (value === undefined || value === '') {
    throw new UsageError(`environment variable ${hook.secretEnv} is not set: export it, or use secret`);
  }
  if (!isWebhookSecret(value.trim()))
    throw new UsageError(`environment variable ${hook.secretEnv} ${webhookSecretHint}`);
  return value.trim();
}

type Path = readonly PropertyKey[];

interface Problem {
  path: Path;
  message: string;
  /** For an unknown key: the key, whose own position is reported. */
  key?: string;
}

function formatPath(path: Path): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$]*$/.test(segment))
      text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text === '' ? '(top level)' : text;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(
        Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

interface JsonSchemaNode {
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  type?: string | string[];
  anyOf?: JsonSchemaNode[];
  default?: unknown;
  description?: string;
  format?: string;
}

/** The keys the schema allows at `path`, read from the JSON Schema so there is no second list. */
function knownKeysAt(path: Path): string[] {
  let node: JsonSchemaNode | undefined = watchConfigJsonSchema();
  for (const segment of path)
    node = typeof segment === 'number' ? node?.items : node?.properties?.[String(segment)];
  return Object.keys(node?.properties ?? {});
}

function unknownKeyMessage(path: Path, key: string): string {
  const known = knownKeysAt(path);
  const near = known
    .map((name) => ({ name, distance: editDistance(key.toLowerCase(), name.toLowerCase()) }))
    .filter(({ distance }) => distance <= Math.max(1, Math.floor(key.length / 3)))
    .sort((a, b) => a.distance - b.distance)[0];
  if (near !== undefined) return `unknown key "${key}": did you mean "${near.name}"?`;
  return known.length > 0
    ? `unknown key "${key}": allowed keys are ${known.join(', ')}`
    : `unknown key "${key}"`;
}

function problemsOf(error: z.ZodError): Problem[] {
  return error.issues.flatMap((issue): Problem[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: [...issue.path, key],
        key,
        message: unknownKeyMessage(issue.path, key),
      }));
    }
    return [{ path: issue.path, message: issue.message }];
  });
}

// Replaces zod's "Invalid input: expected string, received undefined" with what to do about it.
const errorMap: z.core.$ZodErrorMap = (issue) => {
  if (issue.code !== 'invalid_type') return undefined;
  if (issue.input === undefined) return 'required';
  return `expected ${issue.expected === 'object' ? 'a mapping' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}, got ${describeValue(issue.input)}`;
};

/** Where a problem sits in the YAML: the offending node, or its nearest existing ancestor. */
function offsetOf(problem: Problem, doc: Document): number | undefined {
  const parentPath = problem.key === undefined ? problem.path : problem.path.slice(0, -1);
  for (let depth = parentPath.length; depth >= 0; depth--) {
    const node: unknown = doc.getIn(parentPath.slice(0, depth), true);
    if (problem.key !== undefined && depth === parentPath.length && isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && item.key.value === problem.key);
      if (pair !== undefined && isScalar(pair.key) && pair.key.range) return pair.key.range[0];
    }
    if (isNode(node) && node.range) return node.range[0];
  }
  return undefined;
}

/** One line per problem, in file order: `file:line:col: path: message`. */
function problemsError(
  problems: readonly Problem[],
  source: string,
  doc: Document,
  lines: LineCounter,
): UsageError {
  const located = problems.map((problem) => ({ problem, offset: offsetOf(problem, doc) }));
  located.sort((a, b) => (a.offset ?? -1) - (b.offset ?? -1));
  const text = located.map(({ problem, offset }) => {
    const position = offset === undefined ? undefined : lines.linePos(offset);
    const where = position === undefined ? source : `${source}:${position.line}:${position.col}`;
    return `${where}: ${formatPath(problem.path)}: ${problem.message}`;
  });
  return new UsageError(text.join('\n'));
}

/**
 * Validates the text of a leakwatch.yaml. `source` names it in messages. Throws one
 * {@link UsageError} listing every problem, one line each: `source:line:col: path: what to fix`.
 */
export function parseWatchConfig(
  text: string,
  source: string,
  env: NodeJS.ProcessEnv = process.env,
): WatchConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    // The first line only: yaml's longer form quotes source lines, which may hold secrets.
    const messages = doc.errors.map((error) => {
      const { line, col } = lines.linePos(error.pos[0]);
      const message = error.message.split('\n')[0] ?? error.message;
      return `${source}:${line}:${col}: YAML syntax error: ${message.replace(/ at line \d+, column \d+:?$/, '')}`;
    });
    throw new UsageError(messages.join('\n'));
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // An unresolved alias or an alias bomb surfaces only here, as a plain Error.
    throw new UsageError(`${source}: YAML error: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  if (data === null || data === undefined) {
    throw new UsageError(`${source}: the file is empty: add at least "stores:" with one target`);
  }
  const result = watchConfigSchema.safeParse(data, { error: errorMap });
  if (!result.success) {
    throw problemsError(problemsOf(result.error), source, doc, lines);
  }
  const parsed = result.data;
  const problems: Problem[] = [];
  const webhooks = parsed.alerts.webhooks.map((hook, index) => {
    try {
      return { url: hook.url, secret: resolveSecret(hook, env) };
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      problems.push({ path: ['alerts', 'webhooks', index, 'secretEnv'], message: error.message });
      return { url: hook.url, secret: '' };
    }
  });
  if (problems.length > 0) {
    throw problemsError(problems, source, doc, lines);
  }
  const config: WatchConfig = {
    intervals: parsed.intervals,
    concurrency: parsed.concurrency,
    timeout: parsed.timeout,
    sample: parsed.sample,
    stores: parsed.stores.map((store) => {
      const spec = checkWatchTarget(store.target) as WatchedStoreConfig['spec'];
      const watched: WatchedStoreConfig = {
        name: store.name ?? spec.display,
        target: store.target,
        spec,
        tags: store.tags,
        interval: store.interval ?? parsed.intervals.protection,
      };
      if (store.owner !== undefined) watched.owner = store.owner;
      return watched;
    }),
    alerts: { webhooks, slack: parsed.alerts.slack },
  };
  if (parsed.metrics !== undefined) config.metrics = parsed.metrics;
  if (parsed.alerts.email !== undefined) config.alerts.email = parsed.alerts.email;
  return config;
}

/** Reads and validates a leakwatch.yaml; every problem, a missing file included, is a {@link UsageError}. */
export async function loadWatchConfig(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<WatchConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file: create it (see leakwatch.example.yaml) or give the path of an existing one'
        : code === 'EISDIR'
          ? 'is a directory: pass the path of a YAML file'
          : code === 'EACCES'
            ? 'permission denied: make it readable by this user'
            : `cannot be read (${code ?? String(error)})`;
    throw new UsageError(`${path}: ${reason}`, { cause: error });
  }
  return parseWatchConfig(text, path, env);
}

/** The JSON Schema (draft 2020-12) of what a user may write: durations are strings or numbers. */
export function watchConfigJsonSchema(): object {
  return z.toJSONSchema(watchConfigSchema, { io: 'input' });
}

function describeType(node: JsonSchemaNode): string {
  if (node.anyOf !== undefined) return node.anyOf.map(describeType).join(' \\| ');
  const types = Array.isArray(node.type) ? node.type : node.type === undefined ? [] : [node.type];
  const base = types.map((type) =>
    type === 'array' && node.items !== undefined ? `${describeType(node.items)}[]` : type,
  );
  const format = node.format === undefined ? '' : ` (${node.format})`;
  return `${base.join(' \\| ')}${format}`;
}

/**
 * A Markdown table of every key, generated from the JSON Schema (docs/config-reference.md), so the
 * README's reference cannot drift from what the loader accepts.
 */
export function watchConfigReferenceMarkdown(): string {
  const rows: string[] = [];
  const required = (node: JsonSchemaNode & { required?: string[] }, key: string) =>
    node.required?.includes(key) === true ? 'yes' : '';
  const visit = (node: JsonSchemaNode & { required?: string[] }, prefix: string): void => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const path = `${prefix}${key}`;
      const isObjectList = child.items?.properties !== undefined;
      const defaultText = child.default === undefined ? '' : `\`${JSON.stringify(child.default)}\``;
      const description = (child.description ?? '').replace(/\|/g, '\\|');
      rows.push(
        `| \`${path}\` | ${isObjectList ? 'list of mappings' : describeType(child)} | ${required(node, key)} | ${defaultText} | ${description} |`,
      );
      if (child.properties !== undefined) visit(child, `${path}.`);
      if (child.items?.properties !== undefined) visit(child.items, `${path}[].`);
    }
  };
  visit(watchConfigJsonSchema(), '');
  return [
    '# Watch configuration reference',
    '',
    '<!-- Generated by `npx tsx scripts/gen-config-schema.ts` from src/watch/watch-config.ts; do not edit. -->',
    '',
    'The file `leakwatch watch` reads (example: `leakwatch.example.yaml`). Durations are `500ms`, `5s`,',
    '`2m`, `1h` or a number of seconds. Unknown keys are errors. JSON Schema:',
    '`schema/watch-config.schema.json`.',
    '',
    '| key | type | required | default | description |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
