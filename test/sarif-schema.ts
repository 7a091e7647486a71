import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import AjvDraft04Module from 'ajv-draft-04';
import addFormatsModule from 'ajv-formats';
import { expect } from 'vitest';

// The official SARIF 2.1.0 schema (draft-04), as shipped in @microsoft/jest-sarif.
const require = createRequire(import.meta.url);
const schemaPath = require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json');
const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as object;
// ajv-draft-04 is CommonJS with only a default export.
const AjvDraft04 = AjvDraft04Module as unknown as typeof AjvDraft04Module.default;
// unicodeRegExp off: the schema's language pattern is not valid under the /u flag.
const addFormats = addFormatsModule as unknown as (ajv: InstanceType<typeof AjvDraft04>) => unknown;
const ajv = new AjvDraft04({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats(ajv);
const validate = ajv.compile(schema);

/** Asserts that `log` is valid SARIF 2.1.0. */
export function expectValidSarif(log: unknown): void {
  validate(log);
  expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
}
