import type { FieldContext } from './detector.js';

/** Longest letter run that keeps a following digit run attached: `ipv4`, `md5`, `sha256`, `s3`. */
const maxJoinedLetters = 3;

// Character classes (numbers, not an enum: compared in a hot loop).
const SEP = 0;
const LOWER = 1;
const UPPER = 2;
const DIGIT = 3;

function charClass(key: string, i: number): number {
  const code = key.charCodeAt(i);
  if (code >= 97 && code <= 122) return LOWER;
  if (code >= 65 && code <= 90) return UPPER;
  if (code >= 48 && code <= 57) return DIGIT;
  if (code < 128) return SEP;
  // Non-ASCII letters belong to words (field names in other scripts); other symbols separate.
  const ch = key.charAt(i);
  const lower = ch.toLowerCase();
  if (lower === ch.toUpperCase()) return SEP;
  return lower === ch ? LOWER : UPPER;
}

/**
 * Lower-cased whole words of one key, so that detectors match words and never substrings (`ssid`
 * is not `ssn`, `wifi_ssid` holds `ssid`, `username` stays one word).
 *
 * - camelCase and PascalCase split at a lower→upper change; an acronym ends before its last capital
 *   when a lower-case word follows: `userIPAddress` → `user ip address`. A single lower-case letter
 *   after an acronym stays with it (`IPs` → `ips`, `IPv4` → `ipv4`), as that is a plural or a
 *   version, not a new word.
 * - `_`, `-`, `.`, spaces, `:`, `#`, `[]`, `*` and every other non-alphanumeric character separate.
 * - Digits: a digit run stays attached to a short (≤ 3 letters) word before it, because there it is
 *   part of the name (`ipv4`, `md5`, `sha256`, `s3`); after a longer word it is an ordinal and
 *   splits off (`address2` → `address 2`, `line1` → `line 1`), so `address` still matches. Letters
 *   after digits start a new word (`2fa` → `2 fa`).
 */
export function splitFieldWords(key: string): string[] {
  const words: string[] = [];
  let start = -1;
  let prev = SEP;
  // Whether the current word is letters only so far (a following digit run may join it).
  let lettersOnly = false;
  const n = key.length;

  for (let i = 0; i < n; i++) {
    const cls = charClass(key, i);
    if (cls === SEP) {
      if (start >= 0) words.push(key.slice(start, i).toLowerCase());
      start = -1;
      prev = SEP;
      continue;
    }
    let boundary = -1;
    if (start < 0) {
      boundary = i;
    } else if (cls === DIGIT) {
      if (prev !== DIGIT && !(lettersOnly && i - start <= maxJoinedLetters)) boundary = i;
    } else if (prev === DIGIT) {
      boundary = i;
    } else if (cls === UPPER && prev === LOWER) {
      boundary = i;
    } else if (cls === LOWER && prev === UPPER && i - 1 > start) {
      // `IPAddress` → `IP` + `Address`, unless one lone lower-case letter follows (`IPs`, `IPv4`).
      const next = i + 1 < n ? charClass(key, i + 1) : SEP;
      if (next === LOWER) boundary = i - 1;
    }
    if (boundary >= 0) {
      if (start >= 0 && boundary > start) words.push(key.slice(start, boundary).toLowerCase());
      start = boundary;
    }
    if (boundary === i) lettersOnly = cls !== DIGIT;
    else if (cls === DIGIT) lettersOnly = false;
    prev = cls;
  }
  if (start >= 0) words.push(key.slice(start).toLowerCase());
  return words;
}

/**
 * Splits a field path (DESIGN.md grammar) into its keys: `.` joins keys, `[]` is an array step,
 * and a Redis key family (`user:*:token#field`) uses `:` and `#`.
 */
function splitKeys(path: string): string[] {
  const keys: string[] = [];
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    const c = i < path.length ? path.charCodeAt(i) : 46;
    // . : # [ ]
    if (c === 46 || c === 58 || c === 35 || c === 91 || c === 93) {
      if (i > start) keys.push(path.slice(start, i));
      start = i + 1;
    }
  }
  return keys;
}

/**
 * A plural word's singular (`emails` → `email`, `ssids` → `ssid`, `ips` → `ip`), so that detectors
 * list singular words only. Not for `-ss`, `-us`, `-is` endings (`address`, `status`, `axis`).
 */
function singularOf(word: string): string | undefined {
  const n = word.length;
  if (n < 3 || word.charCodeAt(n - 1) !== 115 /* s */) return undefined;
  const before = word.charCodeAt(n - 2);
  if (before === 115 || before === 117 /* u */ || before === 105 /* i */) return undefined;
  if (before < 97 || before > 122) return undefined;
  return word.slice(0, n - 1);
}

function addWords(into: string[], words: readonly string[]): void {
  for (const w of words) {
    into.push(w);
    const singular = singularOf(w);
    if (singular !== undefined) into.push(singular);
  }
}

/**
 * The context of one field, computed once per field by the classifier. `keyWords` are the words of
 * the last key that has any (so `session:*` has key words `session`, `cams[]` has `cams`);
 * `pathWords` are the words of every key in order, array steps and `*` dropped. A plural word is
 * followed by its singular in both lists (`emails` → `emails`, `email`), so detectors' `fieldWords`
 * are singular whole words and match both.
 */
export function fieldContext(path: string): FieldContext {
  const keys = splitKeys(path);
  const pathWords: string[] = [];
  let keyWords: string[] = [];
  for (const key of keys) {
    const words = splitFieldWords(key);
    if (words.length === 0) continue;
    keyWords = [];
    addWords(keyWords, words);
    addWords(pathWords, words);
  }
  return { path, keyWords, pathWords };
}
