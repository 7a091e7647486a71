/**
 * Text that came from a target (banners, error messages, index names) is hostile: strip terminal
 * control characters and cap its length before it reaches a report or a terminal (DESIGN.md
 * invariant 4). Tabs and newlines are folded to spaces so a detail stays one line.
 */
export function sanitizeText(text: string, maxLength = 200): string {
  // C0 controls, DEL, C1 controls (ESC sequences start with \x1b or \x9b), bidi overrides.
  // eslint-disable-next-line no-control-regex
  const cleaned = text.replace(/[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]+/g, ' ').trim();
  return cleaned.length > maxLength ? `${cleaned.slice(0, maxLength - 1)}…` : cleaned;
}

/**
 * Removes `user[:password]@` from a target string so credentials never reach output:
 * `redis://:pw@host` becomes `redis://host`.
 */
export function redactTarget(target: string): string {
  return target.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#]*@/i, '$1');
}
