import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { format, resolveConfig } from 'prettier';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../core/errors.js';
import {
  loadWatchConfig,
  parseWatchConfig,
  resolveSecret,
  watchConfigJsonSchema,
  watchConfigReferenceMarkdown,
  watchConfigSchema,
  type WatchConfig,
} from './watch-config.js';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

const root = new URL('../../', import.meta.url);
const exampleText = await readFile(new URL('leakwatch.example.yaml', root), 'utf8');
const committedSchema: unknown = JSON.parse(
  await readFile(new URL('schema/watch-config.schema.json', root), 'utf8'),
);
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

const fullText = `
intervals:
  protection: 5s
  classification: 10m
concurrency: 32
timeout: 5s
sample: 1000
metrics: 127.0.0.1:9464
stores:
  - name: analytics-es
    target: es://127.0.0.1:9200
    owner: data-team@example.com
    tags: [analytics, prod]
    interval: 10s
alerts:
  webhooks:
    - url: http://127.0.0.1:8080/hooks/leakwatch
      secret: ${secret}
  slack:
    - url: http://127.0.0.1:8081/slack
  email:
    to: [oncall@example.com]
    from: leakwatch@example.com
    smtp: smtp://127.0.0.1:2525
`;

/** The UsageError message `parseWatchConfig` throws for `text`; fails the test if it does not throw one. */
function errorOf(text: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseWatchConfig(text, 'leakwatch.yaml', env);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as UsageError).message;
  }
  throw new Error('expected a UsageError');
}

const minimal = 'stores:\n  - target: redis://127.0.0.1:6379\n';

describe('parseWatchConfig', () => {
  it('parses the full config into milliseconds with every value kept', () => {
    const config = parseWatchConfig(fullText, 'leakwatch.yaml', {});
    expect(config).toEqual<WatchConfig>({
      intervals: { protection: 5000, classification: 600_000 },
      concurrency: 32,
      timeout: 5000,
      sample: 1000,
      metrics: { host: '127.0.0.1', port: 9464 },
      stores: [
        {
          name: 'analytics-es',
          target: 'es://127.0.0.1:9200',
          spec: { display: 'es://127.0.0.1:9200', protocol: 'elasticsearch', host: '127.0.0.1', port: 9200 },
          owner: 'data-team@example.com',
          tags: ['analytics', 'prod'],
          interval: 10_000,
        },
      ],
      alerts: {
        webhooks: [{ url: 'http://127.0.0.1:8080/hooks/leakwatch', secret }],
        slack: [{ url: 'http://127.0.0.1:8081/slack' }],
        email: { to: ['oncall@example.com'], from: 'leakwatch@example.com', smtp: 'smtp://127.0.0.1:2525' },
      },
    });
  });

  it('fills every default for a minimal config, naming the store after its target', () => {
    expect(parseWatchConfig(minimal, 'leakwatch.yaml', {})).toEqual<WatchConfig>({
      intervals: { protection: 5000, classification: 600_000 },
      concurrency: 32,
      timeout: 5000,
      sample: 1000,
      stores: [
        {
          name: 'redis://127.0.0.1:6379',
          target: 'redis://127.0.0.1:6379',
          spec: { display: 'redis://127.0.0.1:6379', protocol: 'redis', host: '127.0.0.1', port: 6379 },
          tags: [],
          interval: 5000,
        },
      ],
      alerts: { webhooks: [], slack: [] },
    });
  });

  it('accepts numbers of seconds and every duration unit', () => {
    const config = parseWatchConfig(
      'intervals: {protection: 1.5, classification: 1h}\ntimeout: 500ms\nstores:\n  - {target: redis://127.0.0.1, interval: 2m}\n',
      'leakwatch.yaml',
      {},
    );
    expect(config.intervals).toEqual({ protection: 1500, classification: 3_600_000 });
    expect(config.timeout).toBe(500);
    expect(config.stores[0]?.interval).toBe(120_000);
  });

  it('keeps credentials in target for probing but names the store without them', () => {
    const config = parseWatchConfig('stores:\n  - target: redis://:hunter2@127.0.0.1:6379\n', 'x.yaml', {});
    expect(config.stores[0]?.target).toBe('redis://:hunter2@127.0.0.1:6379');
    expect(config.stores[0]?.name).toBe('redis://127.0.0.1:6379');
    expect(config.stores[0]?.spec.password).toBe('hunter2');
  });

  it('parses IPv6 metrics addresses', () => {
    expect(parseWatchConfig(`metrics: '[::1]:9464'\n${minimal}`, 'x.yaml', {}).metrics).toEqual({
      host: '::1',
      port: 9464,
    });
  });

  it('parses leakwatch.example.yaml', () => {
    const config = parseWatchConfig(exampleText, 'leakwatch.example.yaml', {});
    expect(config.stores.map((store) => [store.name, store.interval])).toEqual([
      ['analytics-es', 10_000],
      ['redis://127.0.0.1:6379', 5000],
    ]);
    expect(config.alerts.webhooks).toEqual([{ url: 'http://127.0.0.1:8080/hooks/leakwatch', secret }]);
    expect(config.metrics).toEqual({ host: '127.0.0.1', port: 9464 });
  });
});

describe('parseWatchConfig errors', () => {
  it('names file, line, path and fix for a bad duration', () => {
    const message = errorOf('stores:\n  - target: redis://127.0.0.1\n    interval: 5 seconds\n');
    expect(message).toBe(
      'leakwatch.yaml:3:15: stores[0].interval: invalid duration: use a number with ms, s, m or h, e.g. 5s or 500ms',
    );
    expect(errorOf(`timeout: 0s\n${minimal}`)).toBe(
      'leakwatch.yaml:1:10: timeout: invalid duration "0s": must be positive',
    );
    expect(errorOf(`timeout: true\n${minimal}`)).toContain(
      'timeout: expected a duration such as 5s, 500ms, 2m, 1h, or a number of seconds',
    );
    expect(errorOf(`timeout: 2d\n${minimal}`)).toContain('leakwatch.yaml:1:10: timeout: invalid duration');
    expect(errorOf(`timeout: 25h\n${minimal}`)).toContain('timeout: must be at most 24h');
  });

  it('rejects a protection interval under 1s, globally and per store', () => {
    expect(errorOf(`intervals:\n  protection: 500ms\n${minimal}`)).toBe(
      'leakwatch.yaml:2:15: intervals.protection: must be at least 1s',
    );
    expect(errorOf('stores:\n  - {target: redis://127.0.0.1, interval: 0.2}\n')).toContain(
      'stores[0].interval: must be at least 1s',
    );
  });

  it('reports a bad target with the store index and the reason from parseTarget', () => {
    const message = errorOf(
      'stores:\n  - target: redis://127.0.0.1\n  - target: mongo://127.0.0.1\n  - target: foo://127.0.0.1\n',
    );
    expect(message).toMatch(
      /^leakwatch\.yaml:4:13: stores\[2\]\.target: unknown protocol "foo" in "foo:\/\/127\.0\.0\.1": use one of /,
    );
    expect(message.split('\n')).toHaveLength(1);
  });

  it('rejects targets that are not one service, and never prints credentials', () => {
    expect(errorOf('stores:\n  - target: 127.0.0.0/30\n')).toContain(
      'stores[0].target: "127.0.0.0/30" is a network range',
    );
    expect(errorOf('stores:\n  - target: 127.0.0.1:6379\n')).toContain(
      'stores[0].target: target "127.0.0.1:6379" needs a protocol, e.g. redis://127.0.0.1:6379',
    );
    const message = errorOf('stores:\n  - target: redis://:hunter2@127.0.0.1:99999\n');
    expect(message).toContain('stores[0].target: invalid port "99999"');
    expect(message).not.toContain('hunter2');
  });

  it('rejects duplicate names, given or defaulted from the target', () => {
    expect(
      errorOf(
        'stores:\n  - {name: a, target: redis://127.0.0.1}\n  - {name: a, target: redis://127.0.0.2}\n',
      ),
    ).toBe(
      'leakwatch.yaml:3:12: stores[1].name: name "a" is already used by stores[0]: names must be unique',
    );
    expect(errorOf('stores:\n  - target: redis://127.0.0.1\n  - target: redis://:pw@127.0.0.1\n')).toBe(
      'leakwatch.yaml:3:13: stores[1].target: store name "redis://127.0.0.1" (from its target) is already used by stores[0]: add a unique name',
    );
  });

  it('rejects unknown keys at their own line, suggesting the closest known one', () => {
    expect(errorOf('stores:\n  - target: redis://127.0.0.1\n    intreval: 5s\n')).toBe(
      'leakwatch.yaml:3:5: stores[0].intreval: unknown key "intreval": did you mean "interval"?',
    );
    expect(errorOf(`${minimal}colour: red\n`)).toBe(
      'leakwatch.yaml:3:1: colour: unknown key "colour": allowed keys are intervals, concurrency, timeout, sample, metrics, stores, alerts',
    );
    expect(errorOf(`${minimal}alerts:\n  slack:\n    - {url: http://127.0.0.1/, channel: x}\n`)).toContain(
      'alerts.slack[0].channel: unknown key "channel"',
    );
  });

  it('lists every problem, one line each, in file order', () => {
    const message = errorOf('concurency: 4\nsample: 0\nstores:\n  - target: nope://x\n');
    expect(message.split('\n')).toEqual([
      'leakwatch.yaml:1:1: concurency: unknown key "concurency": did you mean "concurrency"?',
      'leakwatch.yaml:2:9: sample: Too small: expected number to be >=1',
      expect.stringMatching(/^leakwatch\.yaml:4:13: stores\[0\]\.target: unknown protocol "nope"/) as string,
    ]);
  });

  it('reports YAML syntax errors with line and column', () => {
    expect(errorOf('stores:\n  - target: redis://127.0.0.1\n    tags: [a, b\n')).toBe(
      'leakwatch.yaml:4:1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
    );
    expect(errorOf('stores:\n  - target: redis://127.0.0.1\n stores: []\n').split('\n')).toEqual([
      'leakwatch.yaml:3:1: YAML syntax error: All mapping items must start at the same column',
      'leakwatch.yaml:3:2: YAML syntax error: Map keys must be unique',
    ]);
    expect(errorOf('stores:\n\t- target: redis://127.0.0.1\n')).toBe(
      'leakwatch.yaml:2:1: YAML syntax error: Tabs are not allowed as indentation',
    );
    expect(errorOf('a: &x 1\nb: *y\n')).toBe(
      'leakwatch.yaml: YAML error: Unresolved alias (the anchor must be set before the alias): y',
    );
    expect(errorOf(`${minimal}stores: []\n`)).toBe(
      'leakwatch.yaml:3:1: YAML syntax error: Map keys must be unique',
    );
  });

  it('explains missing, empty and wrongly shaped files', () => {
    expect(errorOf('')).toBe('leakwatch.yaml: the file is empty: add at least "stores:" with one target');
    expect(errorOf('- redis://127.0.0.1\n')).toBe(
      'leakwatch.yaml:1:1: (top level): expected a mapping, got a list',
    );
    expect(errorOf('concurrency: 4\n')).toBe('leakwatch.yaml:1:1: stores: required');
    expect(errorOf('stores: []\n')).toBe(
      'leakwatch.yaml:1:9: stores: add at least one store, e.g. - target: redis://127.0.0.1:6379',
    );
    expect(errorOf('stores:\n  - owner: me\n')).toBe('leakwatch.yaml:2:5: stores[0].target: required');
    expect(errorOf('stores: redis://127.0.0.1\n')).toBe(
      'leakwatch.yaml:1:9: stores: expected a list, got a string',
    );
  });

  it('checks webhook secrets without printing them', () => {
    const message = errorOf(
      `${minimal}alerts:\n  webhooks:\n    - {url: http://127.0.0.1/, secret: whsec_tooShort}\n`,
    );
    expect(message).toContain('alerts.webhooks[0].secret: must be "whsec_" followed by base64');
    expect(message).not.toContain('tooShort');
    expect(errorOf(`${minimal}alerts:\n  webhooks:\n    - {url: http://127.0.0.1/}\n`)).toBe(
      'leakwatch.yaml:5:7: alerts.webhooks[0]: set exactly one of secret (whsec_…) or secretEnv (an environment variable name)',
    );
    expect(
      errorOf(`${minimal}alerts:\n  webhooks:\n    - {url: 'file:///etc/passwd', secretEnv: S}\n`),
    ).toContain('alerts.webhooks[0].url: use an http:// or https:// URL');
  });

  it('reads secretEnv from the environment at load, and names it when missing', () => {
    const text = `${minimal}alerts:\n  webhooks:\n    - url: http://127.0.0.1:8080/\n      secretEnv: LEAKWATCH_TEST_SECRET\n`;
    expect(
      parseWatchConfig(text, 'leakwatch.yaml', { LEAKWATCH_TEST_SECRET: secret }).alerts.webhooks,
    ).toEqual([{ url: 'http://127.0.0.1:8080/', secret }]);
    expect(errorOf(text, {})).toBe(
      'leakwatch.yaml:6:18: alerts.webhooks[0].secretEnv: environment variable LEAKWATCH_TEST_SECRET is not set: export it, or use secret',
    );
    const bad = errorOf(text, { LEAKWATCH_TEST_SECRET: 'not-a-secret' });
    expect(bad).toContain('environment variable LEAKWATCH_TEST_SECRET must be "whsec_"');
    expect(bad).not.toContain('not-a-secret');
  });

  it('checks email and metrics settings', () => {
    expect(
      errorOf(`${minimal}alerts:\n  email: {to: [], from: me, smtp: 'http://127.0.0.1'}\n`).split('\n'),
    ).toEqual([
      'leakwatch.yaml:4:15: alerts.email.to: add at least one recipient',
      'leakwatch.yaml:4:25: alerts.email.from: use an email address such as leakwatch@example.com',
      'leakwatch.yaml:4:35: alerts.email.smtp: use an smtp:// or smtps:// URL, e.g. smtp://127.0.0.1:2525',
    ]);
    expect(errorOf(`metrics: 9464\n${minimal}`)).toBe(
      'leakwatch.yaml:1:10: metrics: expected a string, got a number',
    );
    expect(errorOf(`metrics: 127.0.0.1:70000\n${minimal}`)).toBe(
      'leakwatch.yaml:1:10: metrics: invalid listen address "127.0.0.1:70000": port 70000 is above 65535 (expected HOST:PORT, :PORT or [IPv6]:PORT)',
    );
  });
});

describe('resolveSecret', () => {
  it('prefers the inline secret and reads the environment otherwise', () => {
    expect(resolveSecret({ secret }, {})).toBe(secret);
    expect(resolveSecret({ secretEnv: 'S' }, { S: ` ${secret}\n` })).toBe(secret);
    expect(() => resolveSecret({ secretEnv: 'S' }, { S: '' })).toThrow(UsageError);
  });
});

describe('loadWatchConfig', () => {
  it('reads a file and names it in errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'leakwatch-config-'));
    try {
      const good = join(dir, 'good.yaml');
      await writeFile(good, minimal);
      expect((await loadWatchConfig(good, {})).stores[0]?.name).toBe('redis://127.0.0.1:6379');
      const bad = join(dir, 'bad.yaml');
      await writeFile(bad, 'stores:\n  - target: redis://127.0.0.1\n    intervl: 1s\n');
      await expect(loadWatchConfig(bad, {})).rejects.toThrow(`${bad}:3:5: stores[0].intervl: unknown key`);
      const missing = join(dir, 'missing.yaml');
      await expect(loadWatchConfig(missing, {})).rejects.toThrow(
        new UsageError(
          `${missing}: no such file: create it (see leakwatch.example.yaml) or give the path of an existing one`,
        ),
      );
      await expect(loadWatchConfig(dir, {})).rejects.toThrow(`${dir}: is a directory`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('generated files', () => {
  it('schema/watch-config.schema.json is current (regenerate: npx tsx scripts/gen-config-schema.ts)', () => {
    expect(committedSchema).toEqual(watchConfigJsonSchema());
  });

  it('docs/config-reference.md is current (regenerate: npx tsx scripts/gen-config-schema.ts)', async () => {
    const path = new URL('docs/config-reference.md', root).pathname;
    const expected = await format(watchConfigReferenceMarkdown(), {
      ...(await resolveConfig(path)),
      filepath: path,
    });
    expect(await readFile(path, 'utf8')).toBe(expected);
  });

  it('README.md carries the same reference (regenerate: npx tsx scripts/gen-config-schema.ts)', async () => {
    const reference = await readFile(new URL('docs/config-reference.md', root).pathname, 'utf8');
    const readme = await readFile(new URL('README.md', root).pathname, 'utf8');
    const block = /<!-- config-reference:begin -->([\s\S]*)<!-- config-reference:end -->/.exec(readme)?.[1];
    expect(block?.trim()).toBe(reference.split('\n').slice(1).join('\n').trim());
  });

  it('the JSON Schema accepts the example and rejects what the loader rejects', () => {
    const ajv = addFormats(new Ajv2020({ allErrors: true, strict: false }));
    const validate = ajv.compile(committedSchema as object);
    const check = (text: string): boolean => validate(parseYaml(text));
    expect(check(exampleText), JSON.stringify(validate.errors)).toBe(true);
    expect(check(fullText), JSON.stringify(validate.errors)).toBe(true);
    expect(check(minimal)).toBe(true);
    expect(check(`${minimal}timeout: 12\n`)).toBe(true);
    expect(check(`${minimal}colour: red\n`)).toBe(false);
    expect(check(`${minimal}timeout: 5 seconds\n`)).toBe(false);
    expect(check('stores:\n  - {target: redis://127.0.0.1, intreval: 5s}\n')).toBe(false);
    expect(check(`${minimal}alerts:\n  webhooks:\n    - {url: http://127.0.0.1/}\n`)).toBe(false);
    expect(
      check(
        `${minimal}alerts:\n  webhooks:\n    - {url: http://127.0.0.1/, secret: ${secret}, secretEnv: S}\n`,
      ),
    ).toBe(false);
    expect(check('concurrency: 4\n')).toBe(false);
  });

  it('the zod schema and the JSON Schema agree that durations may be strings or numbers', () => {
    expect(
      watchConfigSchema.safeParse({ stores: [{ target: 'redis://127.0.0.1' }], timeout: 2 }).data?.timeout,
    ).toBe(2000);
  });
});
