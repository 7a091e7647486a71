// Regenerates the committed JSON Schema and Markdown reference of leakwatch.yaml from the zod schema.
// Run: npx tsx scripts/gen-config-schema.ts. src/watch/watch-config.test.ts fails when they drift.
import { readFile, writeFile } from 'node:fs/promises';
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

// The README carries the same reference between markers, so a newcomer sees every key there.
const readmePath = fileURLToPath(new URL('../README.md', import.meta.url));
const referencePath = fileURLToPath(new URL('../docs/config-reference.md', import.meta.url));
const body = (await readFile(referencePath, 'utf8')).split('\n').slice(1).join('\n').trim();
const readme = await readFile(readmePath, 'utf8');
const begin = '<!-- config-reference:begin -->';
const end = '<!-- config-reference:end -->';
const from = readme.indexOf(begin);
const to = readme.indexOf(end);
if (from < 0 || to < from) throw new Error(`README.md lacks the ${begin} … ${end} markers`);
const updated = `${readme.slice(0, from + begin.length)}\n\n${body}\n\n${readme.slice(to)}`;
await writeFile(
  readmePath,
  await format(updated, { ...(await resolveConfig(readmePath)), filepath: readmePath }),
);
process.stderr.write(`wrote ${readmePath}\n`);
