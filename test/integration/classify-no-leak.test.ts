import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScanReport } from '../../src/core/scan-report.js';
import { reportFormats } from '../../src/report/report-writer.js';
import { runCli } from '../run-cli.js';

// Issue item 5 for files (DESIGN.md invariant 3): seed files with known secrets and personal data,
// classify them in every format, to stdout and to --output, and look for the values, and for any
// 8-character window of each, in everything the CLI printed or wrote, errors included.

/** Appends the Luhn check digit (ISO/IEC 7812-1 annex B). */
function withLuhn(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return `${digits}${(10 - (sum % 10)) % 10}`;
}

/** A German IBAN with valid ISO 13616 mod-97 check digits. */
function iban(bban: string): string {
  const numeric = `${bban}131400`; // D=13 E=14, then "00" in place of the check digits.
  const check = 98 - Number(BigInt(numeric) % 97n);
  return `DE${String(check).padStart(2, '0')}${bban}`;
}

const alphabet = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function pseudoRandom(seed: number, length: number, chars = alphabet): string {
  let x = seed * 2654435761;
  let out = '';
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out += chars.charAt(x % chars.length);
  }
  return out;
}

const people = Array.from({ length: 6 }, (_, i) => ({
  user_id: 7100 + i,
  email: `dana.quill${i}@leak-example.net`,
  phone: `+4915123${String(456780 + i * 7)}`,
  aws_access_key_id: `AKIA${pseudoRandom(i + 1, 16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`,
  alexa_token: `Atza|${pseudoRandom(i + 11, 300, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_')}`,
  password_hash: `$2b$12$${pseudoRandom(i + 21, 53)}`,
  card_number: withLuhn(`453957876362${String(100 + i)}`),
  iban: iban(`370400440532013${String(100 + i)}`),
}));
const secretKeys = [
  'email',
  'phone',
  'aws_access_key_id',
  'alexa_token',
  'password_hash',
  'card_number',
  'iban',
] as const;
const secrets = people.flatMap((p) => secretKeys.map((k) => p[k]));

function windows(secret: string, size = 8): string[] {
  const out: string[] = [];
  for (let i = 0; i + size <= secret.length; i++) out.push(secret.slice(i, i + size));
  return out;
}

let dir: string;
const file = (name: string) => join(dir, name);
const inputs = () => [
  file('customers.jsonl'),
  file('customers.csv'),
  file('broken.json'),
  file('mixed.jsonl'),
];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lw-classify-noleak-'));
  writeFileSync(file('customers.jsonl'), people.map((p) => JSON.stringify(p)).join('\n'));
  const columns = Object.keys(people[0] ?? {});
  writeFileSync(
    file('customers.csv'),
    [
      columns.join(','),
      ...people.map((p) => columns.map((c) => String(p[c as keyof typeof p])).join(',')),
    ].join('\r\n'),
  );
  // Error paths must not quote what they failed on: V8's JSON.parse message does.
  const first = people[0]!;
  writeFileSync(file('broken.json'), `{"email": "${first.email}", "key": ${first.aws_access_key_id}}`);
  writeFileSync(file('mixed.jsonl'), `{"token": "${first.alexa_token}"\n${JSON.stringify(people[1])}\n`);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('no raw sensitive value leaves classify/ (classify)', () => {
  it('no output format, --output file or log line holds a seeded value', async () => {
    const runs = await Promise.all(
      reportFormats.flatMap((format) => [
        runCli(['classify', ...inputs(), '-f', format, '--fail-on', 'none']).then((run) => ({
          format,
          run,
          out: '',
        })),
        runCli([
          'classify',
          ...inputs(),
          '-f',
          format,
          '-o',
          file(`report.${format}`),
          '--fail-on',
          'none',
        ]).then((run) => ({ format, run, out: readFileSync(file(`report.${format}`), 'utf8') })),
      ]),
    );
    for (const { format, run, out } of runs) {
      expect(run.code, format).toBe(0);
      const everything = [run.stdout, run.stderr, out].join('\n');
      expect(everything, format).toContain('customers');
      for (const secret of secrets) {
        expect(everything, `raw value of ${secret.slice(0, 3)}… (${format})`).not.toContain(secret);
        for (const window of windows(secret)) {
          // The shared domain of the seeded emails is a property of the test, not a person's data.
          if (window.includes('leak-exa') || window.includes('eak-exam') || window.includes('example.'))
            continue;
          expect(everything.includes(window), `8-char window of a seeded secret (${format})`).toBe(false);
        }
      }
    }
  });

  it('still says which categories the files hold, and for how many people', async () => {
    const run = await runCli([
      'classify',
      file('customers.jsonl'),
      file('customers.csv'),
      '-f',
      'json',
      '--fail-on',
      'none',
    ]);
    const report = JSON.parse(run.stdout) as ScanReport;
    for (const target of report.targets) {
      const categories = new Set(target.fields.flatMap((f) => f.categories));
      for (const category of [
        'email',
        'phone',
        'cloud_credential',
        'oauth_token',
        'password_hash',
        'payment_card',
        'bank_account',
      ])
        expect(categories, `${target.target} ${category}`).toContain(category);
      expect(target.subjects.byCategory.email, target.target).toBe(people.length);
      expect(target.severity).toBe('critical');
    }
  });
});
