// Share of control bytes above which the head of a file is not text. Text files have none but tab,
// line breaks and the odd form feed or escape; binary formats are full of them.
const maxControlShare = 0.1;

/**
 * Says why the first bytes of a file are not text records (`undefined` when they look like text).
 * Invalid UTF-8 alone is still text (Latin-1 exports exist): it is decoded with replacement chars.
 */
export function describeBinary(head: Buffer): string | undefined {
  // Magic numbers: gzip RFC 1952 §2.3.1, zip APPNOTE 4.3.7, UTF-16 byte order marks (Unicode §23.8).
  if (head[0] === 0x1f && head[1] === 0x8b) return 'binary file, not records (gzip: decompress it first)';
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04)
    return 'binary file, not records (zip archive: extract it first)';
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff))
    return 'binary file, not records (UTF-16 text: convert it to UTF-8)';
  if (head.includes(0)) return 'binary file, not records';
  let control = 0;
  for (const byte of head) {
    if (
      (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d && byte !== 0x0c && byte !== 0x1b) ||
      byte === 0x7f
    )
      control++;
  }
  return control > head.length * maxControlShare ? 'binary file, not records' : undefined;
}
