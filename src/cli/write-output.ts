import { rename, writeFile } from 'node:fs/promises';
import { UsageError } from '../core/errors.js';

/**
 * Writes a report to `--output FILE` through a temporary file and a rename, so a crash never leaves
 * a half-written report where a pipeline expects a whole one.
 */
export async function writeOutput(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, text, { mode: 0o600 });
    await rename(temporary, file);
  } catch (error) {
    throw new UsageError(
      `cannot write --output ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      {
        cause: error,
      },
    );
  }
}
