// Regenerates the committed JSON Schema and Markdown reference of leakwatch.yaml from the zod schema.
// Run: npx tsx scripts/gen-config-schema.ts. src/watch/watch-config.test.ts fails when they drift.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { watchConfigJsonSchema, watchConfigReferenceMarkdown } from '../src/watch/watch-config.js';

const outputs = [
  ['../schema/watch-config.schema.json', JSON.stringify(watchConfigJsonSchema(), null, 2)],
  ['../docs/config-reference.md', watchConfigReferenceMarkdown()],
] as const;
for (const [relative, text] of outputs) {
  const path = fileURLToPath(new URL(relative, import.meta.url));
  // Formatted as `npm run format:check` expects; the output ends with a newline.
  const formatted = await format(text, { ...(await resolveConfig(path)), filepath: path });
  await writeFile(path, formatted);
  process.stderr.write(`wrote ${path}\n`);
}
