import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { expect } from 'vitest';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const schema: unknown = JSON.parse(
  readFileSync(new URL('../schema/scan-report.schema.json', import.meta.url), 'utf8'),
);
const ajv = addFormats(new Ajv({ allErrors: true, strict: false }));
const validate = ajv.compile(schema as object);

/** Asserts that `report` satisfies DESIGN.md's JSON contract (schema/scan-report.schema.json). */
export function expectValidReport(report: unknown): void {
  const ok = validate(report);
  expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
  expect(ok).toBe(true);
}
