/**
 * The few named errors of Leakwatch (DESIGN.md invariant 6). Expected probe outcomes are values,
 * not exceptions; these are for the caller's mistakes and for bugs. `cli/` maps them to exit codes.
 */

/** The user asked for something malformed: a bad target, flag or duration. Exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A target or address lies outside the scan's scope (excluded, or advertised by a server). */
export class ScopeError extends Error {
  override readonly name = 'ScopeError';
}

/** A peer answered with bytes that break its protocol; ends that one target with `error`. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

/** A read exceeded its byte cap. */
export class LimitError extends Error {
  override readonly name = 'LimitError';
}

/** An input file cannot be read as records (malformed, binary, over a cap); ends that one file. */
export class InputError extends Error {
  override readonly name = 'InputError';
}
