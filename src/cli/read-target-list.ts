import { readFile } from 'node:fs/promises';
import { UsageError } from '../core/errors.js';

// A target list is a short text file; one that is larger is a mistake (a binary, a log).
const maxListBytes = 16 * 1024 * 1024;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxListBytes)
      throw new UsageError(`target list on stdin is larger than ${maxListBytes} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads `--targets FILE` (`-` for stdin): one target per line; blank lines and `#` comments skipped. */
export async function readTargetList(file: string): Promise<string[]> {
  let text: string;
  if (file === '-') {
    text = await readStdin();
  } else {
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new UsageError(
        `cannot read --targets ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
        {
          cause: error,
        },
      );
    }
    if (Buffer.byteLength(text) > maxListBytes)
      throw new UsageError(`--targets ${file} is larger than 16 MiB`);
  }
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}
