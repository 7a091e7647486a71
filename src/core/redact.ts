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
 * Where `user[:password]` ends in the part of a target after `scheme://`: the index of its `@`, or
 * -1 when there is none. Normally the last `@` before the first `/`, `?` or `#`. A password may
 * hold an unencoded `/` (`s3://KEY:abc/def@host`): when the part before that `/` has a colon that
 * is not a port, it can only be `user:password`, which then runs to the next `@`.
 */
export function userinfoEnd(rest: string): number {
  const delimiter = rest.search(/[/?#]/);
  const authorityEnd = delimiter < 0 ? rest.length : delimiter;
  const at = authorityEnd === 0 ? -1 : rest.lastIndexOf('@', authorityEnd - 1);
  if (at >= 0) return at;
  const head = rest.slice(0, authorityEnd);
  const colon = head.indexOf(':');
  if (colon >= 0 && !head.startsWith('[') && !/^\d*$/.test(head.slice(colon + 1))) {
    return rest.indexOf('@', authorityEnd);
  }
  return -1;
}

/**
 * Removes `user[:password]@` from a target string so credentials never reach output:
 * `redis://:pw@host` becomes `redis://host`.
 */
export function redactTarget(target: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(target);
  if (!scheme) return target;
  const rest = target.slice(scheme[0].length);
  const end = userinfoEnd(rest);
  return end < 0 ? target : `${scheme[0]}${rest.slice(end + 1)}`;
}
