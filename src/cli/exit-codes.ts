/** Exit codes of every command (README "Exit codes"); CI scripts rely on them. */
export const exitCodes = {
  /** Nothing at or above `--fail-on`. */
  ok: 0,
  /** Findings at or above `--fail-on`. */
  findings: 1,
  /** Usage or configuration error: the message says what to fix. */
  usage: 2,
  /** A bug in Leakwatch. */
  internal: 3,
} as const;
